"""A user's own function as the lab's work: ``lab run MODULE:FUNC`` and :func:`lab.measure`.

The function is named by reference (a module path, or a script's path, and the function's
name), so that every process, interpreter and worker imports it the way the user runs it; one
that no process can import by name (a notebook's, a lambda, a closure) travels pickled by
value instead. Its arguments are Python literals, written once (on the command line, or by
:func:`lab.measure` as their ``repr``) and read again in each worker.
"""
