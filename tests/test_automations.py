"""Automation rules (models/automations.py, `kehu automations`): a small world with a
frozen day; each event firing, conditions, no recursion, `run` idempotent, a dry run
that changes nothing, audit entries naming the rule, rights, and a broken rule file
told in one message with file:line:rule. SQLite and PostgreSQL."""
import datetime as dt
import json
import textwrap
from decimal import Decimal

import pytest

from kehu.models import automations, bulk, query, timeline
from kehu.models.config import config_dir
from kehu.models.schema import load_schema
from kehu.models.security import add_user
from kehu.models.store import Store
from kehu.tui.cli import main

TODAY = dt.date(2026, 12, 28)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(automations, "_today", lambda: TODAY)
    monkeypatch.setattr(query, "_today", lambda: TODAY)


def write_rules(text: str):
    path = config_dir() / "automations.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def at(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(10))


def entries_by_rules(store, customer_id):
    I = store.Interaction
    return list(I.select().where(I.customer == customer_id, I.user.startswith("rule:"))
                .order_by(I.id))


def audit_notes(store, customer_id):
    E = store.audit.Entry
    return [(e.action, e.table_name, e.login, e.note)
            for e in E.select().where(E.customer_id == customer_id).order_by(E.id)]


def counts(store):
    return (store.Interaction.select().count(), store.audit.Entry.select().count(),
            store.Customer.select().where(store.Customer.version > 1).count())


# --- events --------------------------------------------------------------------------

BIG_ORDER = """
    rules:
      - name: big-order
        when: purchase_logged
        if: "purchase_total>=1000"
        then:
          - follow_up: {in: 7d, note: thank them}
          - add_tag: VIP
"""


def test_purchase_logged_fires_when_the_condition_holds(store):
    write_rules(BIG_ORDER)
    acme = store.create_customer({"name": "Acme", "tags": "old"})
    timeline.add_entry(store, acme.id, "purchase", amount=Decimal("500"), occurred_at=at(3))
    assert entries_by_rules(store, acme.id) == []                 # 500 < 1000: nothing
    timeline.add_entry(store, acme.id, "purchase", amount=Decimal("600"), occurred_at=at(2))
    [reminder] = entries_by_rules(store, acme.id)
    assert (reminder.kind, reminder.summary, reminder.next_follow_up, reminder.user) == (
        "note", "thank them", TODAY + dt.timedelta(days=7), "rule:big-order")
    row = store.get_customer(acme.id)
    assert row.tags == "old,VIP"
    # the reminder is no contact: the last contact is still the purchase
    assert row.last_contact_at == at(2)
    # every change the rule made is audited as the rule's, run by the user
    notes = audit_notes(store, acme.id)
    assert ("create", "interaction", "tester", "rule:big-order") in notes
    assert ("update", "customer", "tester", "rule:big-order") in notes
    assert [n for n in notes if n[3] is None and n[1] == "interaction"][0][2] == "tester"
    # the follow-up is on the agenda of its day
    from kehu.models import agenda
    due = agenda.build(store, TODAY + dt.timedelta(days=7))
    assert [i.why for i in due.sections["followup"]] == ["follow-up due today: thank them"]
    # a third purchase fires again (a new occasion); the tag is already there
    timeline.add_entry(store, acme.id, "purchase", amount=Decimal("1"), occurred_at=at(1))
    assert len(entries_by_rules(store, acme.id)) == 2
    assert store.get_customer(acme.id).tags == "old,VIP"


def test_purchase_logged_from_the_call_screen_path_too(store):
    write_rules("""
        rules:
          - name: any-order
            when: purchase_logged
            then:
              - agenda: {note: check the delivery}
    """)
    acme = store.create_customer({"name": "Acme"})
    store.add_interaction(acme.id, "purchase", amount=Decimal("10"))
    store.add_interaction(acme.id, "call", summary="hello")        # not a purchase
    [item] = entries_by_rules(store, acme.id)
    assert (item.summary, item.next_follow_up) == ("check the delivery", TODAY)


def test_customer_created_grade_and_stage_changed(store):
    write_rules("""
        rules:
          - name: welcome
            when: customer_created
            if: "grade:A"
            then:
              - follow_up: {in: 3d, note: welcome call, kind: call}
          - name: promoted
            when: grade_changed
            if: grade:A
            then:
              - add_tag: key
          - name: lost
            when: stage_changed
            if: stage:lost
            then:
              - agenda: win them back
              - set: {grade: D}
    """)
    a = store.create_customer({"name": "Alpha", "grade": "A"})
    b = store.create_customer({"name": "Beta", "grade": "B"})
    [welcome] = entries_by_rules(store, a.id)
    assert (welcome.kind, welcome.next_follow_up) == ("call", TODAY + dt.timedelta(days=3))
    assert entries_by_rules(store, b.id) == []
    store.update_customer(b.id, {"grade": "A"})
    assert store.get_customer(b.id).tags == "key"
    store.update_customer(b.id, {"notes": "no grade change"})
    # the rule 'lost' sets grade D itself: that grade change fires no rule (no recursion)
    store.update_customer(a.id, {"stage": "lost"})
    row = store.get_customer(a.id)
    assert row.grade == "D" and row.tags is None
    assert [e.summary for e in entries_by_rules(store, a.id)] == ["welcome call", "win them back"]
    Fired = automations.fired_model(store)
    assert sorted((f.rule, f.customer_id) for f in Fired.select()) == sorted(
        [("welcome", a.id), ("promoted", b.id), ("lost", a.id)])
    # an undo puts a value back: no new event (its audit entry stays the undo's)
    E = store.audit.Entry
    grade_entry = E.select().where(E.customer_id == b.id, E.action == "update",
                                   E.note.is_null()).order_by(E.id).first()
    store.update_customer(b.id, {"tags": None})
    store.audit.revert(grade_entry.id)
    assert store.get_customer(b.id).grade == "B" and store.get_customer(b.id).tags is None
    store.update_customer(b.id, {"grade": "A"})      # a change again: the rule again
    assert store.get_customer(b.id).tags == "key"


def test_a_stage_moved_by_a_purchase_fires_stage_changed(store):
    write_rules("""
        rules:
          - name: first-order
            when: stage_changed
            if: "-stage:lead"
            then:
              - add_tag: customer-now
    """)
    acme = store.create_customer({"name": "Acme"})
    assert store.get_customer(acme.id).stage == "lead"
    timeline.add_entry(store, acme.id, "purchase", amount=Decimal("50"))
    row = store.get_customer(acme.id)      # the purchase re-scored the stage
    assert row.stage != "lead" and row.tags == "customer-now"
    fired = automations.fired_model(store).get()
    assert fired.occasion.startswith(f"stage_changed:lead>{row.stage}:")


def test_a_bulk_change_fires_the_change_rules(store):
    write_rules("""
        rules:
          - name: promoted
            when: grade_changed
            if: grade:A
            then:
              - follow_up: {in: 1w, note: congratulate}
              - add_tag: promoted
    """)
    ids = [store.create_customer({"name": f"C{i}", "grade": "B" if i else "A"}).id
           for i in range(3)]
    result = bulk.apply(store, bulk.Selection(ids=frozenset(ids)), bulk.Change(set={"grade": "A"}))
    assert result.changed == 2
    fired = {cid: [e.next_follow_up for e in entries_by_rules(store, cid)] for cid in ids}
    assert fired == {ids[0]: [], ids[1]: [TODAY + dt.timedelta(days=7)],
                     ids[2]: [TODAY + dt.timedelta(days=7)]}
    # the rule's work does not stop the bulk change's undo; the undo keeps the rule's work
    undone = bulk.undo(store, result.batch_id)
    assert (undone.restored, undone.skipped) == (2, [])
    assert [store.get_customer(i).grade for i in ids] == ["A", "B", "B"]
    assert len(entries_by_rules(store, ids[1])) == 1
    assert store.get_customer(ids[1]).tags == "promoted"


# --- kehu automations run ----------------------------------------------------------------

QUIET = """
    rules:
      - name: quiet
        when: {no_contact: {days: 60}}
        if: "grade:A,B"
        then:
          - agenda: {note: 60 days without contact}
          - add_tag: quiet
      - name: no-phone
        if: "mobile:empty"
        then:
          - add_tag: to-complete
"""


def quiet_world(store):
    C = store.Customer
    ids = {}
    for name, grade, silent, mobile in (("Old", "A", 100, "13812345678"),
                                        ("Fresh", "A", 10, "13812345679"),
                                        ("Low", "D", 100, "13812345670"),
                                        ("NoPhone", "B", 59, None)):
        ids[name] = store.create_customer({"name": name, "grade": grade, "mobile": mobile}).id
        C.update(created_at=at(400), last_contact_at=at(silent)).where(
            C.id == ids[name]).execute()
    return ids


def test_run_is_idempotent_and_a_dry_run_changes_nothing(store):
    write_rules(QUIET)
    ids = quiet_world(store)
    before = counts(store)
    dry = automations.run(store, TODAY, dry_run=True)
    assert dry.dry_run and counts(store) == before
    assert automations.fired_model(store).select().count() == 0
    assert sorted((f.rule, f.name) for f in dry.firings) == [("no-phone", "NoPhone"),
                                                             ("quiet", "Old")]
    assert dry.changes == 3
    first = automations.run(store, TODAY)
    assert [(f.rule, f.name, f.done) for f in first.firings] == [
        ("quiet", "Old", ["on the agenda: 60 days without contact", "tag +quiet"]),
        ("no-phone", "NoPhone", ["tag +to-complete"])]
    assert first.summary() == "2 time rules ran: 2 customers, 3 changes, 0 skipped"
    after = counts(store)
    second = automations.run(store, TODAY)
    assert second.firings == [] and counts(store) == after          # nothing more
    # NoPhone (B, 59 days silent) reaches 60 days tomorrow: it alone comes up, once
    tomorrow = TODAY + dt.timedelta(days=1)
    assert [(f.rule, f.name) for f in automations.run(store, tomorrow).firings] == [
        ("quiet", "NoPhone")]
    assert automations.run(store, tomorrow).firings == []
    # the agenda item keeps the last contact where it was: still silent, still once
    assert store.get_customer(ids["Old"]).last_contact_at == at(100)
    # a new silence (contacted, then 60 days quiet again) is a new occasion
    timeline.add_entry(store, ids["Old"], "call", occurred_at=at(0))
    later = TODAY + dt.timedelta(days=61)
    again = automations.run(store, later)
    assert [(f.rule, f.name) for f in again.firings] == [("quiet", "Old"), ("quiet", "Fresh")]
    assert [f.unchanged for f in again.firings][0] == ["tag +quiet"]
    assert automations.run(store, later).firings == []
    notes = {n[3] for n in audit_notes(store, ids["NoPhone"]) if n[1] == "customer"}
    assert "rule:no-phone" in notes


def test_run_skips_what_the_role_may_not_change(db_url):
    if db_url.startswith("postgres"):
        pytest.skip("roles on PostgreSQL are the team's: test_automations_team_pg")
    write_rules("""
        rules:
          - name: stamp
            if: "grade:A"
            then:
              - set: {birthday: 1990-01-01}
              - add_tag: checked
          - name: only-birthday
            if: "grade:A"
            then:
              - set: {birthday: 1990-01-02}
    """)
    admin = Store.open(db_url, user="admin")
    add_user(admin, "sam", "sales")
    mine = admin.create_customer({"name": "Sam's", "grade": "A", "owner": "sam"}).id
    theirs = admin.create_customer({"name": "Lee's", "grade": "A", "owner": "lee"}).id
    admin.close()
    sam = Store.open(db_url, user="sam")
    result = automations.run(sam, TODAY)
    by_rule = {f.rule: f for f in result.firings}
    assert [f.customer_id for f in result.firings] == [mine, mine]     # never Lee's
    assert by_rule["stamp"].done == ["tag +checked"]
    assert len(by_rule["stamp"].skipped) == 1 and "Birthday" in by_rule["stamp"].skipped[0]
    assert by_rule["only-birthday"].done == []
    # nothing could be done: not remembered, so someone who may do it will
    assert automations.run(sam, TODAY).firings[0].rule == "only-birthday"
    assert [h["customer_id"] for h in automations.history(sam)] == [mine]
    sam.close()
    admin = Store.open(db_url, user="admin")
    assert admin.get_customer(theirs).tags is None
    assert admin.get_customer(mine).birthday is None
    # the admin does what Sam could not: Lee's customer, and the birthday of Sam's
    assert [(f.rule, f.customer_id) for f in automations.run(admin, TODAY).firings] == [
        ("stamp", theirs), ("only-birthday", mine), ("only-birthday", theirs)]
    admin.close()


def test_a_condition_on_a_field_the_role_may_not_see_is_refused_and_said(sqlite_url, capsys,
                                                                         monkeypatch):
    monkeypatch.setenv("KEHU_DB", sqlite_url)
    write_rules("""
        rules:
          - name: by-birthday
            if: "birthday:empty"
            then: [{add_tag: x}]
          - name: by-grade
            if: "grade:A"
            then: [{add_tag: y}]
    """)
    admin = Store.open(sqlite_url, user="admin")
    add_user(admin, "sam", "sales")
    admin.create_customer({"name": "Sam's", "grade": "A", "owner": "sam"})
    admin.close()
    assert main(["--user", "sam", "automations", "run"]) == 2
    captured = capsys.readouterr()
    assert "rule by-birthday could not run: " in captured.err and "Birthday" in captured.err
    assert "rule by-grade → #1 Sam's:  tag +y" in captured.out


def test_a_disabled_example_is_switched_on_by_name(store):
    write_rules("""
        rules:
          - name: missing-phone
            enabled: true
    """)
    rules = {r.name: r for r in automations.rules(store)}
    assert rules["missing-phone"].enabled and not rules["thank-big-orders"].enabled
    a = store.create_customer({"name": "A"})
    assert [f.rule for f in automations.run(store, TODAY).firings] == ["missing-phone"]
    assert store.get_customer(a.id).tags == "to-complete"


def test_the_built_in_examples_are_valid_and_off():
    rules = automations.load_rules(load_schema(None))
    assert len(rules) >= 4 and not any(r.enabled for r in rules)


# --- a broken file: one message, file:line:rule --------------------------------------------

BROKEN = [
    ("""
     rules:
       - name: typo
         when: purchase_loged
         then:
           - add_tag: x
     """, 4, "typo", "unknown event 'purchase_loged' — did you mean 'purchase_logged'?"),
    ("""
     rules:
       - name: keys
         when: purchase_logged
         thne:
           - add_tag: x
     """, 5, "keys", "unknown key 'thne' — did you mean 'then'?"),
    ("""
     rules:
       - name: field
         when: customer_created
         then:
           - add_tag: ok
           - set: {grdae: A}
     """, 7, "field", "unknown field 'grdae' — did you mean 'grade'?"),
    ("""
     rules:
       - name: value
         when: customer_created
         then:
           - set: {grade: Z}
     """, 6, "value", "Grade:"),
    ("""
     rules:
       - name: cond
         if: "grade>>A"
         then:
           - add_tag: x
     """, 4, "cond", "the condition 'if' cannot be used"),
    ("""
     rules:
       - name: days
         when: {no_contact: {days: -3}}
         then:
           - add_tag: x
     """, 4, "days", "no_contact days must be a whole number from 1 to 3650, not -3"),
    ("""
     rules:
       - name: ahead
         when: customer_created
         then:
           - follow_up: {in: soon}
     """, 6, "ahead", "'in' must be days ahead such as 7d"),
    ("""
     rules:
       - name: twice
         when: customer_created
         then: [{add_tag: x}]
       - name: twice
         when: customer_created
         then: [{add_tag: y}]
     """, 6, "twice", "a rule of this name is already on line 3"),
    ("""
     rules:
       - name: nothing
         then: [{add_tag: x}]
     """, 3, "nothing", "a rule needs 'when'"),
    ("""
     rules:
       - name: unsafe
         when: !!python/name:os.system
         then: [{add_tag: x}]
     """, 4, "unsafe", "could not determine a constructor"),
]


@pytest.mark.parametrize("text,line,rule,message", BROKEN)
def test_a_broken_file_is_one_message_with_file_line_rule(text, line, rule, message):
    path = write_rules(text)
    with pytest.raises(automations.AutomationError) as err:
        automations.load_rules(load_schema(None))
    assert str(err.value).startswith(f"{path}:{line}: rule '{rule}': ")
    assert message in str(err.value)


def test_bad_yaml_names_the_line():
    path = write_rules("rules:\n  - name: x\n    when: [purchase_logged\n")
    with pytest.raises(automations.AutomationError) as err:
        automations.load_rules(load_schema(None))
    assert str(err.value).startswith(f"{path}:4: ")


def test_a_broken_file_never_stops_a_save(store):
    write_rules("rules:\n  - name: x\n    when: purchase_loged\n    then: [{add_tag: y}]\n")
    acme = store.create_customer({"name": "Acme"})
    timeline.add_entry(store, acme.id, "purchase", amount=Decimal("5"))
    assert store.get_customer(acme.id).purchase_count == 1
    assert "rule 'x'" in store.automation_notes[-1]
    with pytest.raises(automations.AutomationError):
        automations.run(store, TODAY)


# --- the command ----------------------------------------------------------------------------

def test_cli_list_check_run(db_url, capsys, monkeypatch):
    monkeypatch.setenv("KEHU_DB", db_url)
    write_rules(QUIET)
    store = Store.open(db_url, user="tester")
    quiet_world(store)
    store.close()
    assert main(["automations", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    mine = [r for r in listed["rules"] if r["name"] in ("quiet", "no-phone")]
    assert [(r["name"], r["no_contact_days"], r["line"]) for r in mine] == [
        ("quiet", 60, 3), ("no-phone", None, 9)]
    assert main(["automations", "check"]) == 0
    assert "7 rules, 2 switched on" in capsys.readouterr().out
    assert main(["automations", "run", "--dry-run", "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "rule quiet → #1 Old:  on the agenda: 60 days without contact; tag +quiet" in out
    assert out.strip().endswith("dry run, nothing changed: 2 time rules would make 3 changes "
                                "for 2 customers, 0 skipped")
    assert main(["automations", "run", "--json", "--today", TODAY.isoformat()]) == 0
    ran = json.loads(capsys.readouterr().out)
    assert (ran["changes"], [f["name"] for f in ran["fired"]]) == (3, ["Old", "NoPhone"])
    assert main(["automations", "run", "--today", TODAY.isoformat()]) == 0
    assert capsys.readouterr().out.strip() == (
        "2 time rules ran: 0 customers, 0 changes, 0 skipped")
    assert main(["automations", "run", "--rule", "quiet", "--dry-run"]) == 0
    assert capsys.readouterr().out.strip().endswith("1 time rules would make 0 changes "
                                                    "for 0 customers, 0 skipped")
    assert main(["automations", "log"]) == 0
    logged = capsys.readouterr().out.splitlines()
    assert len(logged) == 2 and "no-phone → #4 (run by " in logged[0]
    assert logged[0].endswith("tag +to-complete")
    assert main(["automations", "log", "--customer", "1", "--json"]) == 0
    assert [r["rule"] for r in json.loads(capsys.readouterr().out)] == ["quiet"]
    assert main(["automations", "run", "--rule", "quite"]) == 2
    assert "unknown rule 'quite' — did you mean 'quiet'?" in capsys.readouterr().err
    path = write_rules("rules:\n  - name: bad\n    when: grade_changd\n    then: [{add_tag: y}]\n")
    assert main(["automations", "check"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"kehu: {path}:3: rule 'bad': unknown event 'grade_changd' — "
                           "did you mean 'grade_changed'?")
    assert main(["automations", "run"]) == 2
    assert f"{path}:3: rule 'bad'" in capsys.readouterr().err


def test_cli_messages_in_chinese(capsys):
    write_rules("rules:\n  - name: 坏\n    when: purchase_logged\n    then: [{set: {等级: Z}}]\n")
    assert main(["--lang", "zh", "automations", "check"]) == 2
    err = capsys.readouterr().err
    assert "automations.yaml:4: 规则「坏」：客户等级" in err


def test_examples_a_schema_cannot_run_are_left_out(tmp_path):
    schema_file = tmp_path / "schema.yaml"
    schema_file.write_text("extends: default\ndrop: [mobile]\n", encoding="utf-8")
    schema = load_schema(schema_file)
    names = [r.name for r in automations.load_rules(schema)]
    assert "missing-phone" not in names
    write_rules("rules:\n  - name: missing-phone\n    enabled: true\n")
    with pytest.raises(automations.AutomationError) as err:
        automations.load_rules(schema)
    assert "rule 'missing-phone'" in str(err.value)


# --- a team on PostgreSQL: the server's rights decide -------------------------------------

@pytest.mark.postgres
def test_automations_team_pg(worker_id, monkeypatch):
    import os

    import psycopg2
    from conftest import pg_url_or_skip

    from kehu.models import team
    from kehu.models.security import roles_document

    url = pg_url_or_skip(worker_id)
    pid = os.getpid()
    prefix, alice = f"ka{pid}_", f"autoalice{pid}"
    roles = [alice, *(prefix + r for r in ("admin", "manager", "sales", "viewer"))]

    def drop_roles():
        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            for role in roles:
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if cur.fetchone():
                    cur.execute(f'DROP OWNED BY "{role}"')
                    cur.execute(f'DROP ROLE "{role}"')
        conn.close()

    drop_roles()
    try:
        owner = Store.open(url)
        team.init(owner, roles_document(shared=True), prefix)
        owner.guard.reset()
        owner.guard._pg_team = None
        add_user(owner, alice, "sales")
        mine = owner.create_customer({"name": "Mine", "grade": "A", "owner": alice}).id
        theirs = owner.create_customer({"name": "Theirs", "grade": "A", "owner": "lee"}).id
        owner.close()
        write_rules("""
            rules:
              - name: check-a
                if: "grade:A"
                then:
                  - add_tag: checked
                  - follow_up: {in: 2d, note: look at it}
        """)
        from urllib.parse import urlparse
        parts = urlparse(url)
        as_alice = parts._replace(netloc=f"{alice}@{parts.hostname}:{parts.port or 5432}").geturl()
        sales = Store.open(as_alice)
        ran = automations.run(sales, TODAY)
        assert [(f.customer_id, f.done) for f in ran.firings] == [
            (mine, ["tag +checked", "follow-up in 2d: look at it"])]
        assert automations.run(sales, TODAY).firings == []
        assert sales.get_customer(mine).tags == "checked"
        Fired = automations.fired_model(sales)
        assert [f.customer_id for f in Fired.select()] == [mine]
        sales.close()
        owner = Store.open(url)
        assert [f.customer_id for f in automations.run(owner, TODAY).firings] == [theirs]
        # the sales login reads only what rules did to its own customers (row security)
        conn = psycopg2.connect(as_alice)
        with conn.cursor() as cur:
            cur.execute("SELECT customer_id FROM automation_fired ORDER BY customer_id")
            assert cur.fetchall() == [(mine,)]
        conn.close()
        E = owner.audit.Entry
        logins = {(e.login, e.note) for e in E.select().where(E.customer_id == mine,
                                                              E.note == "rule:check-a")}
        assert logins == {(alice, "rule:check-a")}
        owner.close()
    finally:
        drop_roles()


# --- the screen: a purchase logged by keys, the rule's work seen at once --------------------

async def test_a_purchase_logged_in_the_timeline_screen_shows_what_the_rule_did(sqlite_url):
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.timeline import TimelineScreen

    write_rules(BIG_ORDER)
    store = Store.open(sqlite_url, user="tester")
    acme = store.create_customer({"name": "Acme"})
    from test_tui_chain import add_entry, list_lines, status   # the keys a user types there

    async with KehuApp(store).run_test(size=(120, 30)) as pilot:
        await pilot.app.push_screen(TimelineScreen(acme.id))
        await pilot.pause()
        await add_entry(pilot, "pur", "2026-01-27 10:00", "order", "5000")
        screen = pilot.app.screen
        shown = list_lines(screen.list)
        assert "rule:big-order" in shown[0] and "thank them" in shown[0]
        assert "Purchase" in shown[1]
        said = status(screen, "#timeline-status")
        assert "rule big-order → #1 Acme:" in said and "tag +VIP" in said
    assert store.get_customer(acme.id).tags == "VIP"
    store.close()


def test_two_runs_at_once_fire_each_rule_once_per_customer(db_url):
    import threading

    write_rules(QUIET)
    setup = Store.open(db_url, user="tester")
    quiet_world(setup)
    setup.close()
    stores = [Store.open(db_url, user="tester") for _ in range(2)]
    results, errors = [], []

    def go(s):
        try:
            results.append(automations.run(s, TODAY))
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert errors == []
    assert sorted((f.rule, f.name) for r in results for f in r.firings) == [
        ("no-phone", "NoPhone"), ("quiet", "Old")]
    check = Store.open(db_url, user="tester")
    I = check.Interaction
    assert I.select().where(I.user == "rule:quiet").count() == 1
    check.close()
