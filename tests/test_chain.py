"""Decision chain: contacts as a tree, moves without loops, soft delete, warnings."""
import datetime as dt

import pytest

from kehu.models import chain
from kehu.models.validate import RecordInvalid


def names(store, customer_id):
    """The tree as (name, depth) in display order."""
    return [(n.contact.name, n.depth) for root in chain.contact_tree(store, customer_id)
            for n in root.walk()]


@pytest.fixture
def acme(store):
    return store.create_customer({"name": "Acme"})


def test_contacts_form_a_tree_four_levels_deep(store, acme):
    ceo = chain.add_contact(store, acme.id, name="CEO", role="decision_maker")
    cto = chain.add_contact(store, acme.id, ceo.id, name="CTO", role="influencer")
    lead = chain.add_contact(store, acme.id, cto.id, name="Lead", title="Team lead")
    chain.add_contact(store, acme.id, lead.id, name="Dev", role="user")
    chain.add_contact(store, acme.id, ceo.id, name="CFO", role="buyer")
    assert names(store, acme.id) == [("CEO", 0), ("CTO", 1), ("Lead", 2), ("Dev", 3), ("CFO", 1)]


def test_role_and_stance_accept_labels_and_refuse_others(store, acme):
    c = chain.add_contact(store, acme.id, name="王总", role="决策者", stance="Opponent")
    assert (c.role, c.stance) == ("decision_maker", "opponent")
    with pytest.raises(RecordInvalid) as err:
        chain.add_contact(store, acme.id, name="", role="boss", email="nope", phone="12")
    assert set(err.value.errors) == {"name", "role", "email", "phone"}
    assert "boss" in str(err.value.errors["role"])
    assert store.contacts(acme.id).count() == 1


def test_move_reparents_and_refuses_a_loop(store, acme):
    a = chain.add_contact(store, acme.id, name="A")
    b = chain.add_contact(store, acme.id, a.id, name="B")
    c = chain.add_contact(store, acme.id, b.id, name="C")
    d = chain.add_contact(store, acme.id, name="D")
    chain.move_contact(store, c.id, d.id)
    assert names(store, acme.id) == [("A", 0), ("B", 1), ("D", 0), ("C", 1)]
    chain.move_contact(store, d.id, b.id)
    with pytest.raises(chain.ChainError) as err:
        chain.move_contact(store, a.id, c.id)  # C is under D under B under A
    assert "cannot move A under C" in str(err.value)
    with pytest.raises(chain.ChainError):
        chain.move_contact(store, a.id, a.id)
    assert names(store, acme.id) == [("A", 0), ("B", 1), ("D", 2), ("C", 3)]
    chain.move_contact(store, d.id, None)
    assert names(store, acme.id) == [("A", 0), ("B", 1), ("D", 0), ("C", 1)]


def test_cannot_report_to_someone_of_another_customer(store, acme):
    other = store.create_customer({"name": "Other"})
    x = chain.add_contact(store, other.id, name="X")
    a = chain.add_contact(store, acme.id, name="A")
    with pytest.raises(chain.ChainError) as err:
        chain.move_contact(store, a.id, x.id)
    assert "another customer" in str(err.value)
    with pytest.raises(chain.ChainError):
        chain.add_contact(store, acme.id, x.id, name="B")


def test_soft_delete_hands_reports_up_and_restore_brings_back(store, acme):
    a = chain.add_contact(store, acme.id, name="A")
    b = chain.add_contact(store, acme.id, a.id, name="B")
    chain.add_contact(store, acme.id, b.id, name="C1")
    chain.add_contact(store, acme.id, b.id, name="C2")
    assert chain.delete_contact(store, b.id) == 2
    assert names(store, acme.id) == [("A", 0), ("C1", 1), ("C2", 1)]
    assert chain.get_contact(store, b.id, include_deleted=True).name == "B"
    chain.restore_contact(store, b.id)
    assert ("B", 1) in names(store, acme.id)


def test_edit_and_key_person_toggle(store, acme):
    a = chain.add_contact(store, acme.id, name="A")
    chain.update_contact(store, a.id, title="CEO", phone="138 0013 8000")
    assert chain.set_key_person(store, a.id).key_person is True
    again = chain.set_key_person(store, a.id)
    assert again.key_person is False
    assert (again.title, again.phone) == ("CEO", "+8613800138000")


def test_warnings_name_what_is_wrong(store, acme):
    assert chain.chain_warnings(store, acme.id) == []
    boss = chain.add_contact(store, acme.id, name="Boss", role="user", key_person=True)
    assert [w.code for w in chain.chain_warnings(store, acme.id)] == ["no_decision_maker"]
    chain.update_contact(store, boss.id, role="decision_maker", stance="opponent")
    warnings = chain.chain_warnings(store, acme.id)
    assert [w.code for w in warnings] == ["decision_maker_opposes"]
    assert "Boss" in warnings[0].message
    later = dt.date.today() + dt.timedelta(days=100)
    codes = [w.code for w in chain.chain_warnings(store, acme.id, today=later)]
    assert "key_people_unverified" in codes
    chain.mark_contact_verified(store, boss.id, when=dt.datetime.combine(later, dt.time()))
    codes = [w.code for w in chain.chain_warnings(store, acme.id, today=later)]
    assert "key_people_unverified" not in codes


def test_a_loop_already_in_the_data_still_shows_everyone(store, acme):
    a = chain.add_contact(store, acme.id, name="A")
    b = chain.add_contact(store, acme.id, a.id, name="B")
    C = store.Contact
    C.update(reports_to=b.id).where(C.id == a.id).execute()  # forced by hand
    shown = names(store, acme.id)
    assert sorted(n for n, _ in shown) == ["A", "B"]
