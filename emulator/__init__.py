"""Local AWS IoT Core + Lambda emulator driven by templates/chat.json."""
