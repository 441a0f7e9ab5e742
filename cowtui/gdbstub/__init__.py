"""A GDB remote serial protocol stub for the session's machine.

``gdb-multiarch kernel -ex 'target remote :PORT'`` attaches to cowtui as it
would to QEMU's stub: registers and CSRs, memory through the current address
space, breakpoints, write/read/access watchpoints (on PTEs and refcounts
too), stepping, Ctrl-C, and ``monitor`` commands that know copy-on-write.

Layers, each a module: ``packets`` (framing, checksums, escaping),
``registers`` (numbering and the target description XML), ``target`` (every
access to the machine, serialised with the run loop), ``monitor`` (the
``monitor`` commands), ``dispatcher`` (a packet in, a reply out),
``server`` (the socket, one client at a time, in its own thread), and the
glue: ``endpoint`` (``[HOST:]PORT``), ``launch`` (the command line, headless)
and ``app_link`` (the app).
"""
