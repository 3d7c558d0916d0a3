"""The lab's built-in plugins, installed as ``lab_plugins`` and loaded through entry points."""
