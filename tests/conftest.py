"""Shared fixtures: real photographs from scikit-image's bundled sample data, and a catalog
location on each backend (an SQLite file, a database of a private PostgreSQL server)."""

from collections.abc import Iterator
from pathlib import Path

import edge_cases
import pytest
import skimage
from PIL import Image

from benchmarks import dask_cluster, postgres_cluster

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"

PHOTOS = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "motorcycle_left.png",
    "rocket.jpg",
    "retina.jpg",
    "hubble_deep_field.jpg",
    "camera.png",
    "moon.png",
    "coins.png",
    "page.png",
    "brick.png",
    "grass.png",
    "gravel.png",
]
"""Real, mutually different photographs (colour and grayscale) shipped by scikit-image."""


@pytest.fixture(scope="session")
def photo_paths() -> list[Path]:
    """Paths of real, mutually different photographs."""
    paths = [SKIMAGE_DATA / name for name in PHOTOS]
    missing = [p for p in paths if not p.exists()]
    assert not missing, f"scikit-image sample images missing: {missing}"
    return paths


@pytest.fixture(scope="session")
def edge_files(tmp_path_factory) -> dict[str, Path]:
    """Edge-case files (see tests/edge_cases.py) made from real photographs: name → path."""
    photo = Image.open(SKIMAGE_DATA / "chelsea.png")
    other = Image.open(SKIMAGE_DATA / "coffee.png")
    drawing = Image.open(SKIMAGE_DATA / "logo.png")
    return edge_cases.make_all(photo, other, drawing, tmp_path_factory.mktemp("edge"))


BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory) -> Iterator[postgres_cluster.PostgresCluster]:
    """A private PostgreSQL 15 server for the session, started on first use, deleted at the end.

    PostgreSQL catalogs keep their local files (saved indexes, journals) in the user's cache
    folder: for the session that is a temporary folder, for this process and its children.
    """
    if not postgres_cluster.available():
        pytest.skip(
            f"PostgreSQL 15 is not installed in {postgres_cluster.BIN} "
            "(`make test` installs it: apt-get install postgresql)"
        )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        with postgres_cluster.PostgresCluster.start() as cluster:
            yield cluster


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each catalog backend in turn: the storage, catalog, command-line, duplicates and server
    tests that ask for a location run once on each."""
    return request.param


def new_location(request: pytest.FixtureRequest, backend: str, folder: Path) -> str:
    """A new, empty catalog location on ``backend``: a file in ``folder``, or a fresh database
    (dropped when ``request``'s scope ends)."""
    if backend == "sqlite":
        return str(folder / "pixdex.db")
    cluster = request.getfixturevalue("postgres")
    uri = cluster.create_database()
    request.addfinalizer(lambda: cluster.drop_database(uri))
    return uri


@pytest.fixture
def location(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """A new, empty catalog location on each backend in turn: what ``Catalog(...)`` and
    ``--db`` take."""
    return new_location(request, backend, tmp_path)


@pytest.fixture(scope="session")
def dask(tmp_path_factory) -> Iterator[dask_cluster.DaskCluster]:
    """A private Dask cluster for the session: ``dask scheduler`` and two ``dask worker``
    processes of one thread each on 127.0.0.1, started on first use, stopped at the end. Tests
    that kill a worker start a cluster of their own."""
    with dask_cluster.DaskCluster.start(workers=2) as cluster:
        yield cluster
