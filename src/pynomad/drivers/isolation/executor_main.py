"""The executor of isolated tasks: `python -I -S executor_main.py SPEC.json`.

The plain executor (`pynomad/drivers/executor.py`) with `launch.launch` as launcher;
run by path for a fast start, so it puts this package's root on `sys.path` itself.
"""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))))
    from pynomad.drivers import executor
    from pynomad.drivers.isolation.launch import launch

    sys.exit(executor.main(launch=launch))
