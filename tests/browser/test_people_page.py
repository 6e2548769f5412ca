"""People in the web client, in a real Chromium against the emulator: direct messages
(to every tab of the recipient), private rooms with invite and remove, typing, and
edits and deletes reaching the other page."""

from __future__ import annotations

import uuid

import pytest

from tests.browser.conftest import PHONE, WATCH_SCRIPT, ChatPage

pytestmark = pytest.mark.browser


def room() -> str:
    return f"people-{uuid.uuid4().hex[:8]}"


def conversation(page: ChatPage, title: str):
    return page.page.locator(".conversation-button", has_text=title)


def member_button(page: ChatPage, label: str):
    return page.page.get_by_role("button", name=label, exact=True)


def second_tab(first: ChatPage, path: str) -> ChatPage:
    """Another tab of the same browser profile: the same guest (its kept token)."""
    page = first.page.context.new_page()
    page.set_default_timeout(20_000)
    page.add_init_script(WATCH_SCRIPT)
    return ChatPage(page=page, base_url=first.base_url).open(path)


def test_two_users_dm_and_the_second_tab_receives_it(emulator, open_page):
    where = room()
    alice = open_page(emulator, where).join("Alice")
    bob = open_page(emulator, where).join("Bob")
    bob_again = second_tab(bob, where)
    bob_again.wait_state("online")  # the name is remembered; the token too
    assert bob_again.page.evaluate("localStorage.getItem('chat.token')") == bob.page.evaluate(
        "localStorage.getItem('chat.token')"
    )

    member_button(alice, "Message Bob").click()
    alice.page.locator("#room-title", has_text="Bob").wait_for()
    alice.send("psst, Bob")
    alice.wait_text("psst, Bob")

    for page in (bob, bob_again):
        dm = conversation(page, "Alice")
        dm.locator(".unread", has_text="1").wait_for()
        dm.click()
        page.wait_text("psst, Bob")
        assert page.page.locator(".conversation-button", has_text="Alice .unread").count() == 0
    bob.send("hi Alice")
    alice.wait_text("hi Alice")
    # The room itself never saw the DM.
    conversation(bob, where).click()
    assert "psst, Bob" not in bob.texts()
    for page in (alice, bob, bob_again):
        page.assert_clean()


def test_invite_to_a_private_room_chat_and_remove(emulator, open_page):
    where = room()
    alice = open_page(emulator, where).join("Alice")
    bob = open_page(emulator, where, viewport=PHONE).join("Bob")

    alice.page.get_by_label("New private room").fill("Team")
    alice.page.get_by_role("button", name="Create").click()
    alice.page.locator("#room-title", has_text="Team").wait_for()
    alice.wait_state("online")
    member_button(alice, "Invite Bob").click()

    bob.page.locator("#notice-text", has_text="invited").wait_for()
    bob.page.get_by_role("button", name="online").click()  # the phone's panel
    conversation(bob, "Team").click()
    bob.page.locator("#room-title", has_text="Team").wait_for()
    bob.wait_state("online")
    bob.send("hello team")
    alice.wait_text("hello team")
    alice.send("welcome Bob")
    bob.wait_text("welcome Bob")

    member_button(alice, "Remove Bob").click()
    bob.page.locator("#notice-text", has_text="removed").wait_for()
    bob.page.locator("#room-title", has_text=where).wait_for()
    assert conversation(bob, "Team").count() == 0
    for page in (alice, bob):
        page.assert_clean()


def test_typing_shows_and_clears_and_edit_and_delete_reach_the_other_page(emulator, open_page):
    where = room()
    alice = open_page(emulator, where).join("Alice")
    bob = open_page(emulator, where).join("Bob")

    alice.page.get_by_label("Message", exact=True).fill("typing away")
    bob.page.locator("#typing", has_text="Alice is typing…").wait_for()
    # Gone a few seconds after the last signal (the page's own timer, no new event).
    bob.page.locator("#typing:empty").wait_for(state="attached", timeout=15_000)

    alice.page.get_by_label("Message", exact=True).fill("")
    alice.send("a typo hre")
    bob.wait_text("a typo hre")
    own = alice.page.locator("#messages li.message.own", has_text="a typo hre")
    own.get_by_role("button", name="Edit").click()
    alice.page.get_by_label("Message", exact=True).fill("a typo here, fixed")
    alice.page.get_by_role("button", name="Save").click()
    edited = bob.page.locator("#messages li.message", has_text="a typo here, fixed")
    edited.locator(".edited-mark", has_text="(edited)").wait_for()

    alice.page.locator("#messages li.message.own", has_text="fixed").get_by_role(
        "button", name="Delete"
    ).click()
    bob.page.locator("#messages .deleted-mark", has_text="This message was deleted.").wait_for()
    assert "a typo here, fixed" not in bob.texts()
    # Bob has no buttons on Alice's message, and a reload shows the tombstone from history.
    assert bob.page.locator("#messages button[data-action]").count() == 0
    bob.page.reload()
    bob.page.locator("#messages .deleted-mark").wait_for()
    for page in (alice, bob):
        page.assert_clean()
