"""``python -m casewire ...``: the ``casewire`` command (:mod:`casewire_cli`), for images that install no
console scripts, such as the probes of the manifests. Run as a program only: nothing imports it."""

from casewire_cli.main import main

main(prog_name="casewire")
