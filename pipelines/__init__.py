"""Item pipelines, one small job each, in the order settings.ITEM_PIPELINES gives them:
normalize (100) -> validate (200) -> dedup (300) -> store (800). No outlet names in here:
outlet differences belong to crawler/outlets and crawler/pages."""
