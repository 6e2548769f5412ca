"""Retained messages: the last retained message per topic name (MQTT 5.0 section 3.3.1.3)."""

from __future__ import annotations

import time

from emulator.mqtt.message import Message
from emulator.mqtt.topics import FilterSpec, matches


class RetainedStore:
    """Topic name -> its retained message; an empty payload deletes."""

    def __init__(self, *, hash_matches_parent: bool = True) -> None:
        self._messages: dict[str, Message] = {}
        self.hash_matches_parent = hash_matches_parent

    def store(self, message: Message) -> None:
        """Keep ``message`` as its topic's retained message, or delete it if empty."""
        if message.payload:
            self._messages[message.topic] = message
        else:
            self._messages.pop(message.topic, None)

    def get(self, topic: str) -> Message | None:
        """The retained message of a topic, unless it has expired."""
        message = self._messages.get(topic)
        if message is not None and message.expired(time.monotonic()):
            del self._messages[topic]
            return None
        return message

    def matching(self, spec: FilterSpec, *, wildcards: bool) -> list[Message]:
        """Retained messages a new subscription to ``spec`` receives.

        ``wildcards`` False: only a filter naming the topic exactly receives it.
        """
        if not spec.has_wildcard:
            message = self.get(spec.topic_filter)
            return [] if message is None else [message]
        if not wildcards:
            return []
        found = []
        for topic in list(self._messages):
            if matches(spec.topic_filter, topic, hash_matches_parent=self.hash_matches_parent):
                message = self.get(topic)
                if message is not None:
                    found.append(message)
        return found
