"""The plugin host: building the plugin manager, loading plugins (entry points, ``-p``), and
collecting the runners and tasks they register, each owned by the plugin that registered it."""
