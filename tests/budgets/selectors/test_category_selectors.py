"""budgets.selectors.categories, called directly."""

import pytest

from budgets import selectors
from project.errors import NotFound
from tests.conftest import make_category


def test_list_is_the_callers_by_folded_name(user, other_user):
    for name in ["rent", "Food", "bills"]:
        make_category(user, name)
    make_category(other_user, "Aaa")

    assert [c.name for c in selectors.category_list(user=user)] == ["bills", "Food", "rent"]


@pytest.mark.parametrize("category_id", ["theirs", 0, 2**63])
def test_get_of_a_category_not_yours_is_not_found(user, other_user, category_id):
    theirs = make_category(other_user)

    with pytest.raises(NotFound):
        selectors.category_get(
            user=user, category_id=theirs.pk if category_id == "theirs" else category_id
        )
