"""``python -m casewire ...``: the ``casewire`` command, for images that install no console scripts."""

from casewire.cli import main

main(prog_name="casewire")
