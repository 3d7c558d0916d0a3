"""A user's own function as the lab's work: ``lab run MODULE:FUNC`` and :func:`lab.measure`.

The function is named by reference (a module path, or a script's path, and the function's
name), so that every process, interpreter and worker imports it the way the user runs it; its
arguments are Python literals, written once on the command line and read again in each worker.
"""
