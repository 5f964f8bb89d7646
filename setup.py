"""Package list for setuptools; everything else is in pyproject.toml.

The reference models stay in the repository's top-level ``models/`` folder and install as
``minigrad.models``: a top-level ``models`` package would collide with other projects' in
site-packages. pyproject.toml cannot add a package found outside ``minigrad/`` to those that
``find`` discovers, so the list is made here.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["minigrad", "minigrad.*"]), "minigrad.models"],
    package_dir={"minigrad.models": "models"},
)
