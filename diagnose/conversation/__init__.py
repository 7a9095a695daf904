"""The consultation as a step machine: ``State`` in, the next ``Step`` out.

``machine.Conversation`` is the one place where the flow lives; ``state`` is what a
front end keeps (and a session file holds); ``steps`` are what it renders;
``reasoning`` and ``ticket`` are the frozen results.
"""
