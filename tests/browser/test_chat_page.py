"""The web client in a real Chromium against the real emulator (python -m emulator)."""

from __future__ import annotations

import json
import re
import time

import pytest

from emulator.testing import EmulatorProcess
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.mqtt_seed import publish_messages

pytestmark = pytest.mark.browser


def test_two_users_chat_both_ways_and_other_rooms_see_nothing(emulator, open_page):
    alice = open_page(emulator, "lobby").join("Alice")
    bob = open_page(emulator, "lobby").join("Bob")
    carol = open_page(emulator, "kitchen").join("Carol")

    alice.send("hello from Alice")
    bob.wait_text("hello from Alice")
    bob.send("hi Alice, Bob here")
    alice.wait_text("hi Alice, Bob here")

    for page in (alice, bob):
        texts = page.texts()
        assert texts.count("hello from Alice") == 1
        assert texts.count("hi Alice, Bob here") == 1
    # the sender's own message is marked as its own
    own = alice.page.locator("#messages li.message.own .text", has_text="hello from Alice")
    assert own.count() == 1

    # presence: both names listed in the lobby, Carol only in the kitchen
    alice.page.locator("#members-list .member-name", has_text="Bob").wait_for()
    bob.page.locator("#members-list .member-name", has_text="Alice").wait_for()

    carol.send("kitchen only")
    carol.wait_text("kitchen only")  # delivered to every subscriber of the kitchen by now
    bob.send("lobby again")
    for page in (alice, bob):  # on the same connections, after anything stray
        page.wait_text("lobby again")
    assert "kitchen only" not in alice.texts() + bob.texts()
    assert not {"hello from Alice", "hi Alice, Bob here"} & set(carol.texts())
    assert carol.page.locator("#members-list .member-name", has_text="Alice").count() == 0
    for page in (alice, bob, carol):
        page.assert_clean()


def test_late_joiner_sees_backlog_and_pages_back_to_the_first_message(emulator, open_page):
    room = "history-120"
    texts = [f"seed {i:03d}" for i in range(1, 121)]
    publish_messages(emulator, room, "Seeder", texts)

    late = open_page(emulator, room).join("Late")
    late.wait_text("seed 120")
    backlog = late.messages().count()
    assert 0 < backlog < 120, f"the backlog should be one page, not {backlog}"
    assert late.texts()[-1] == "seed 120"

    older = late.page.get_by_role("button", name="Load older")
    pages = 0
    while older.is_visible():
        before = late.messages().count()
        older.click()
        late.page.wait_for_function(
            "([n]) => document.querySelectorAll('#messages > li.message').length > n"
            " || document.getElementById('load-older').hidden",
            arg=[before],
        )
        pages += 1
        assert pages < 10, "Load older never reached the beginning"
    late.page.get_by_text("This is the beginning of the room.").wait_for()

    assert late.texts() == texts, "every message once, oldest first"
    ids = [li.get_attribute("data-id") for li in late.messages().all()]
    assert len(set(ids)) == 120
    stamps = [int(li.get_attribute("data-ts")) for li in late.messages().all()]
    assert stamps == sorted(stamps)
    late.assert_clean()


def test_markup_in_messages_is_text_and_runs_nothing(emulator, open_page):
    room = "xss"
    sender = open_page(emulator, room).join("<b>Mallory</b>")
    reader = open_page(emulator, room).join("Reader")
    payloads = [
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        'javascript:alert(1) and <a href="javascript:alert(2)">x</a> https://example.com/ok',
    ]
    for text in payloads:
        sender.send(text)
    for page in (sender, reader):
        for text in payloads:
            page.wait_text(text)
        listing = page.page.locator("#messages")
        assert listing.locator("img, script, iframe, object, embed").count() == 0
        texts = page.texts()
        for text in payloads:
            assert texts.count(text) == 1
        assert page.page.locator("#messages .author", has_text="<b>Mallory</b>").count() == 3
        links = listing.locator("a")
        assert links.count() == 1, "only the https URL becomes a link"
        assert links.first.get_attribute("href") == "https://example.com/ok"
        assert links.first.get_attribute("rel") == "noopener noreferrer"
        assert links.first.get_attribute("target") == "_blank"
        page.assert_clean()


def test_name_is_remembered_across_reloads(emulator, open_page):
    page = open_page(emulator, "lobby").join("Rememberme")
    page.page.reload()
    assert page.page.get_by_label("Name", exact=True).input_value() == "Rememberme"
    page.wait_state("online")  # joins again by itself with the stored name
    page.send("back after reload")
    page.wait_text("back after reload")
    page.assert_clean()


def test_root_path_is_the_lobby_and_bad_rooms_are_refused(emulator, open_page):
    root = open_page(emulator, "")
    assert root.page.locator("#room-title").inner_text() == "lobby"

    # Any path is the page (as CloudFront's rewrite serves it); the page says why a bad
    # room name does not connect.
    bad = open_page(emulator, "not_a-room!")
    alert = bad.page.locator("#fatal")
    alert.wait_for()
    assert "not a valid room" in alert.inner_text()
    assert bad.page.get_by_role("button", name="Send").is_disabled()
    assert bad.page.get_by_label("Message", exact=True).is_disabled()
    assert bad.state() == "offline"
    bad.assert_clean()


def test_new_messages_hint_when_scrolled_up(emulator, open_page):
    room = "scrolling"
    publish_messages(
        emulator, room, "Chatty", [f"line {i:02d} " + "words " * 12 for i in range(40)]
    )
    reader = open_page(emulator, room, viewport={"width": 800, "height": 500}).join("Reader")
    reader.wait_text("line 39")
    scroller = reader.page.locator("#scroller")
    at_bottom = "(s) => s.scrollHeight - s.scrollTop - s.clientHeight < 80"
    assert scroller.evaluate(at_bottom), "the newest message starts in view"

    scroller.evaluate("(s) => { s.scrollTop = 0; }")
    publish_messages(emulator, room, "Chatty", ["arrived while scrolled up"])
    reader.wait_text("arrived while scrolled up")
    hint = reader.page.get_by_role("button", name="New messages")
    hint.wait_for()
    assert scroller.evaluate("(s) => s.scrollTop") < 50, "reading position is kept"
    # the live region announced it
    assert "arrived while scrolled up" in reader.page.locator("#announcer").inner_text()
    hint.click()
    reader.page.wait_for_function(
        "() => { const s = document.getElementById('scroller');"
        " return s.scrollHeight - s.scrollTop - s.clientHeight < 80; }"
    )
    assert hint.is_hidden()

    reader.send("my own message scrolls into view")
    reader.wait_text("my own message scrolls into view")
    assert scroller.evaluate(at_bottom)
    reader.assert_clean()


def test_limits_are_shown_before_sending(emulator, open_page):
    page = open_page(emulator, "limits").join("Limits")
    message = page.page.get_by_label("Message", exact=True)
    send = page.page.get_by_role("button", name="Send", exact=True)
    counter = page.page.locator("#counter")
    message.fill("x" * 2000)
    assert counter.inner_text().startswith("2000 / 2000")
    assert send.is_enabled()
    message.fill("x" * 2001)
    assert re.search(r"2001 / 2000.*1 too many", counter.inner_text())
    assert send.is_disabled()
    message.press("Enter")  # Enter does not get around the limit
    message.fill("   ")
    assert send.is_disabled()
    name = page.page.get_by_label("Name", exact=True)
    name.fill("n" * 41)
    assert "too long" in page.page.locator("#name-help").inner_text()
    assert send.is_disabled()
    name.fill("Limits")
    message.fill("fits")
    message.press("Enter")
    page.wait_text("fits")
    assert page.texts() == ["fits"]


def test_reconnects_after_make_run_restarts_and_keeps_the_whole_history(
    open_page, artifacts, tmp_path
):
    """The emulator restarted as `make run` restarts it, keeping its state folder: open
    pages reconnect without losing or doubling anything, and the history from before the
    restart is still there, for them and for someone who joins afterwards."""
    server = EmulatorProcess(["--state-dir", str(tmp_path / "state")]).start()
    try:
        alice = open_page(server, "outage").join("Alice")
        bob = open_page(server, "outage").join("Bob")
        alice.send("before the outage")
        bob.wait_text("before the outage")

        server.stop()
        for page in (alice, bob):
            page.wait_state("reconnecting", timeout=15_000)
            assert page.page.get_by_role("button", name="Send").is_disabled()
        alice.page.screenshot(path=str(artifacts / "reconnecting.png"))
        # typed while offline: stays in the box, cannot be sent yet
        alice.page.get_by_label("Message", exact=True).fill("typed during the outage")
        assert alice.page.get_by_role("button", name="Send").is_disabled()

        server.start()
        for page in (alice, bob):
            page.wait_state("online", timeout=60_000)
        message = alice.page.get_by_label("Message", exact=True)
        assert message.input_value() == "typed during the outage"
        alice.page.get_by_role("button", name="Send").click()
        bob.wait_text("typed during the outage")
        bob.send("Bob is back too")
        alice.wait_text("Bob is back too")
        bob.send("last one")
        alice.wait_text("last one")  # any redelivery of the above came before it
        said = ["before the outage", "typed during the outage", "Bob is back too", "last one"]
        late = open_page(server, "outage").join("Late")
        late.wait_text("last one")
        for page in (alice, bob, late):
            texts = page.texts()
            for text in said:
                assert texts.count(text) == 1, f"{text!r} seen {texts.count(text)} times: {texts}"
            page.assert_clean()
        assert late.texts() == said, "the history from before the restart was kept"
    finally:
        server.stop()


def test_screenshot_of_a_busy_room(emulator, open_page, artifacts):
    room = "busy"
    lines = [
        "Morning all! Standup in 5 minutes.",
        "Deploy of the chat stack went fine: https://example.com/deploys/42",
        "Did anyone look at the flaky reconnect test?",
        "Yes — the backoff was too aggressive, fixed with jitter.",
        "A long one to check wrapping: " + "lorem ipsum dolor sit amet " * 8,
        "👍 sounds good",
        "Lunch?",
        "<b>this stays literal</b>",
    ]
    publish_messages(emulator, room, "Dana", lines[:4])
    publish_messages(emulator, room, "Eve", lines[4:])
    desktop = open_page(emulator, room, viewport=DESKTOP).join("Frank")
    phone = open_page(emulator, room, viewport=PHONE).join("Grace")
    desktop.wait_text("Lunch?")
    desktop.send("I'm in, see you at 12:30")
    phone.wait_text("see you at 12:30")
    phone.page.get_by_label("Message", exact=True).fill("typing on the phone…")
    desktop.page.locator("#members-list .member-name", has_text="Grace").wait_for()
    desktop.page.screenshot(path=str(artifacts / "busy-room-desktop.png"))
    phone.page.screenshot(path=str(artifacts / "busy-room-phone.png"))
    assert (artifacts / "busy-room-desktop.png").stat().st_size > 10_000
    # on a phone nothing overflows sideways
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    desktop.assert_clean()
    phone.assert_clean()


def test_token_is_renewed_before_it_expires(emulator, open_page):
    lifetime = emulator.guest_token("probe")["expiresAt"] - time.time()
    assert lifetime > 60, f"unexpected token lifetime {lifetime}s"
    token_posts: list[str] = []

    def before_open(page) -> None:
        page.clock.install()  # time still flows; fast_forward jumps ahead
        page.on(
            "request",
            lambda r: token_posts.append(r.url) if r.url.endswith("/api/token") else None,
        )

    user = open_page(emulator, "renewal", before_open=before_open).join("Renew")
    assert len(token_posts) == 1
    user.send("before renewal")
    user.wait_text("before renewal")

    # Every state the status goes through from here on (the renewal is quick: polling
    # the attribute could miss its "reconnecting").
    user.page.evaluate(
        """() => {
          window.__states = [];
          new MutationObserver((records) => {
            for (const r of records) window.__states.push(r.target.dataset.state);
          }).observe(document.getElementById('status'), {attributes: true});
        }"""
    )
    user.page.clock.fast_forward(int(lifetime * 0.85 * 1000))
    deadline = time.monotonic() + 20
    while len(token_posts) < 2 and time.monotonic() < deadline:
        user.page.wait_for_timeout(200)
    assert len(token_posts) >= 2, "no new token at 80% of the lifetime"
    user.page.wait_for_function(
        "() => window.__states.includes('reconnecting') && window.__states.at(-1) === 'online'"
    )
    user.send("after renewal")
    user.wait_text("after renewal")
    texts = user.texts()
    assert texts.count("before renewal") == 1 and texts.count("after renewal") == 1
    user.assert_clean()


def test_hostile_numbers_neither_break_the_page_nor_freeze_the_members(emulator, open_page):
    """Room traffic comes from functions, but the page trusts no number it is sent: a
    message stamped 1e300 is dropped, a roster from the far future counts as now."""
    room = "hostile-numbers"
    reader = open_page(emulator, room).join("Reader")
    iot = emulator.data_plane()
    hostile = [
        {"type": "message", "id": "far", "ts": 1e300, "room": room, "name": "X", "text": "far"},
        {"type": "message", "id": "neg", "ts": -5, "room": room, "name": "X", "text": "neg"},
        {
            "type": "presence",
            "room": room,
            "members": [{"name": "Ghost", "sender": "g"}],
            "at": 1e300,
        },
    ]
    for body in hostile:
        iot.publish(topic=f"chat/pub/{room}", qos=1, payload=json.dumps(body).encode())
    reader.page.locator("#members-list .member-name", has_text="Ghost").wait_for()

    late = open_page(emulator, room).join("Late")
    reader.page.locator("#members-list .member-name", has_text="Late").wait_for(timeout=15_000)
    late.send("after the hostile ones")
    reader.wait_text("after the hostile ones")
    assert reader.texts() == ["after the hostile ones"]
    reader.assert_clean()
