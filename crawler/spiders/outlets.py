"""One spider class per outlet in the registry, made from OutletSpider and the spec.

Scrapy's SpiderLoader finds classes by module attribute, so each generated class is put in
this module's namespace under a stable name (JoongdoSpider, ...).
"""

from crawler.outlets import registry
from crawler.spiders.outlet import OutletSpider

__all__: list[str] = []

for _name, _spec in registry().items():
    _cls_name = "".join(part.title() for part in _name.split("_")) + "Spider"
    globals()[_cls_name] = type(
        _cls_name,
        (OutletSpider,),
        {"name": _name, "outlet_name": _name, "__doc__": f"{_spec.name_ko} ({_spec.main_host}), family {_spec.family}."},
    )
    __all__.append(_cls_name)
