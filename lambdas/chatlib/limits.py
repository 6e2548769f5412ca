"""The chat's input limits, in one place.

The republish rule's WHERE clause (iot_rules/) and the functions' own validation both
read these, so the SQL and the Python can never disagree.
"""

ROOM_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
NAME_MAX = 40
TEXT_MAX = 2000
BACKLOG_SIZE = 50
HISTORY_PAGE_SIZE = 50
