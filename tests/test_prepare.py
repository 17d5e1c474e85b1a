"""crawler.prepare: a step's record rides on the Article (across the worker's pipe too) outside
its fields, and a pipeline takes the result once, only while the item's fields are its basis."""

from __future__ import annotations

import dataclasses
import pickle

from itemadapter import ItemAdapter

from crawler.items import Article, item_dict
from crawler.prepare import MISSING, Prepared, done, run_steps, take

FIELDS = ["outlet", "url", "canonical_url", "title", "body", "subtitle", "sections", "published", "modified",
          "print_edition", "authors", "region", "wire", "places", "sido", "sigungu", "places_version", "images", "provenance", "body_hash", "content_hash",
          "story_id", "story_similarity", "story_closest", "minhash", "story_shingles", "story_numbers",
          "alias_of", "extra"]


class Shout:
    """A step (module level, so it pickles by reference): the title upper-cased in place, and
    its length as the result."""

    name = "shout"

    def run(self, article):
        article.title = article.title.upper()
        return len(article.title), self.basis(article)

    def basis(self, item):
        return (item.title,)


class Count:
    """A step that sees what ran before it: its result says whether Shout had."""

    name = "count"

    def run(self, article):
        return (done(article, "shout"), len(article.body)), self.basis(article)

    def basis(self, item):
        return (item.body, list(item.sections))  # a copy: the list itself may change in place


class Declines:
    """A step that leaves the work to its pipeline."""

    name = "declines"
    ran = 0

    def run(self, article):
        Declines.ran += 1
        return None

    def basis(self, item):
        return ()


STEPS = (Shout(), Count())


def article(**changes):
    fields = dict(outlet="joongdo", url="https://x/1", canonical_url="https://x/1", title="title", body="body text",
                  sections=["a"])
    return Article(**{**fields, **changes})


def test_steps_run_in_order_and_are_recorded():
    item = run_steps(article(), STEPS)
    assert item.title == "TITLE"
    assert item.preparation == {"shout": Prepared(5, ("TITLE",)), "count": Prepared((True, 9), ("body text", ["a"]))}
    assert done(item, "shout") and done(item, "count") and not done(item, "declines")


def test_the_record_survives_pickling():
    item = pickle.loads(pickle.dumps(run_steps(article(), STEPS), protocol=pickle.HIGHEST_PROTOCOL))
    assert done(item, "shout") and done(item, "count")
    assert take(item, Shout()) == 5
    assert take(item, Count()) == (True, 9)


def test_the_steps_pickle_by_reference():
    steps = pickle.loads(pickle.dumps(STEPS))
    assert [type(s) for s in steps] == [Shout, Count]
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING


def test_a_result_is_taken_once():
    item = run_steps(article(), STEPS)
    assert take(item, Shout()) == 5
    assert take(item, Shout()) is MISSING
    assert not done(item, "shout") and done(item, "count")  # the other record stays


def test_take_is_missing_after_a_field_of_the_basis_changed():
    item = run_steps(article(), STEPS)
    item.title = "TITLE!"
    item.sections.append("b")  # changed in place: the basis holds a copy
    assert take(item, Shout()) is MISSING
    assert take(item, Count()) is MISSING
    assert not done(item, "shout") and not done(item, "count")  # a stale record is dropped too


def test_take_compares_equal_values_and_the_same_objects():
    item = run_steps(article(), STEPS)
    item.title = "".join(["TIT", "LE"])  # an equal string, another object
    item.sections = ["a"]
    assert take(item, Shout()) == 5 and take(item, Count()) == (True, 9)
    nan = float("nan")  # equal to nothing, not even itself; the same object passes

    class Odd:
        name = "odd"

        def run(self, article):
            return "odd", (nan,)

        def basis(self, item):
            return (nan,)

    assert take(run_steps(article(), (Odd(),)), Odd()) == "odd"


def test_without_a_record_take_is_missing():
    assert take(article(), Shout()) is MISSING
    assert take({"title": "t"}, Shout()) is MISSING  # an item type that holds no record
    assert not done(article(), "shout") and not done({"title": "t"}, "shout")


def test_a_step_that_declines_records_nothing():
    Declines.ran = 0
    item = run_steps(article(), (Declines(), Shout()))
    assert Declines.ran == 1 and not done(item, "declines") and done(item, "shout")
    assert take(item, Declines()) is MISSING


def test_no_steps_leave_no_record_and_an_item_without_attributes_is_left_alone():
    item = run_steps(article(), ())
    assert item.preparation is None and "preparation" not in vars(item)
    assert run_steps("not an article", STEPS) == "not an article"  # takes no attributes: no step runs


def test_the_record_is_no_field_of_the_article():
    assert [f.name for f in dataclasses.fields(Article)] == FIELDS
    plain, prepared = article(title="TITLE"), run_steps(article(), STEPS)
    assert prepared.preparation
    assert item_dict(prepared) == item_dict(plain) == ItemAdapter(prepared).asdict()
    assert list(item_dict(prepared)) == FIELDS and "preparation" not in ItemAdapter(prepared).field_names()
    assert prepared == plain  # equality is the fields'
    assert Article.preparation is None  # the class's default, never shared between articles
