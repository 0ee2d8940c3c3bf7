"""What Alembic's autogenerate compares (shared by env.py and the schema test)."""

from geoalchemy2 import alembic_helpers


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # Partitions of the ping history are made by the worker, not declared in the models.
    if type_ == "table" and name and name.startswith("location_pings_p"):
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))
