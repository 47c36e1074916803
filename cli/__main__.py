"""``python -m cli``: the ``aftersales`` command line."""

from . import main

main()
