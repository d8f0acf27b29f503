"""Install mmseed: ``pip install -e .`` (see README for the full environment)."""
from pathlib import Path

from setuptools import find_packages, setup


def read_requirements(name: str) -> list:
    """Return the requirement lines of ``requirements/<name>.txt``."""
    path = Path(__file__).parent / 'requirements' / f'{name}.txt'
    lines = (line.split('#')[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


version = {}
exec((Path(__file__).parent / 'mmseed' / 'version.py').read_text(), version)

setup(
    name='mmseed',
    version=version['__version__'],
    description='Self-supervised distillation of small vision models on the '
    'OpenMMLab stack',
    long_description=(Path(__file__).parent / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    python_requires='>=3.10',
    install_requires=read_requirements('runtime'),
    extras_require={
        'interop': read_requirements('interop'),
        'tests': read_requirements('tests'),
    },
    license='Apache-2.0',
)
