"""Wire formats of locations."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from fieldapi.locations.pings import MAX_PINGS
from fieldapi.locations.service import BBox


class PingSchema(Schema):
    """One position report (documentation: pings are validated one by one in pings.py)."""

    recorded_at = fields.AwareDateTime(required=True, metadata={"example": "2026-11-24T14:05Z"})
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(validate=validate.Range(0, 100_000))
    speed_mps = fields.Float(validate=validate.Range(0, 1_000))
    heading_deg = fields.Float(validate=validate.Range(0, 360))
    altitude_m = fields.Float(validate=validate.Range(-1_000, 100_000))
    battery_pct = fields.Float(validate=validate.Range(0, 100))


class PingBatchSchema(Schema):
    pings = fields.List(
        fields.Nested(PingSchema),
        required=True,
        validate=validate.Length(1, MAX_PINGS),
        metadata={"description": "1 to 500 pings, in any order"},
    )


class RejectionSchema(Schema):
    index = fields.Integer(metadata={"description": "position of the ping in `pings`"})
    message = fields.String()


class IngestResultSchema(Schema):
    stored = fields.Integer()
    duplicates = fields.Integer(
        metadata={"description": "pings already stored (same user and recorded_at)"}
    )
    rejected = fields.List(fields.Nested(RejectionSchema))


class StrictBoolean(fields.Boolean):
    """JSON true or false only (not 1, "yes" or "true")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class DutySchema(Schema):
    on_duty = StrictBoolean(required=True)


_LON = r"-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?)"
_LAT = r"-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?)"
#: Four decimal numbers in range; that the south edge is not above the north one is checked
#: after it (a rule across two of the numbers).
BBOX_PATTERN = f"^{_LON},{_LAT},{_LON},{_LAT}$"


class BBoxField(fields.Field[BBox]):
    """`minLon,minLat,maxLon,maxLat` in degrees; west > east crosses the antimeridian."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> BBox:
        parts = str(value).split(",")
        try:
            numbers = [float(part) for part in parts]
        except ValueError as error:
            raise ValidationError("Four numbers: minLon,minLat,maxLon,maxLat.") from error
        if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
            raise ValidationError("Four numbers: minLon,minLat,maxLon,maxLat.")
        min_lon, min_lat, max_lon, max_lat = numbers
        if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
            raise ValidationError("Longitudes must be between -180 and 180.")
        if not (-90 <= min_lat <= max_lat <= 90):
            raise ValidationError("Latitudes must be between -90 and 90, min before max.")
        return BBox(min_lon, min_lat, max_lon, max_lat)


class TeamMapQuerySchema(Schema):
    bbox = BBoxField(
        metadata={
            "description": "minLon,minLat,maxLon,maxLat: only members inside this view",
            "type": "string",
            "pattern": BBOX_PATTERN,
        }
    )


class PointSchema(Schema):
    type = fields.String(metadata={"example": "Point"})
    coordinates = fields.List(fields.Float(), metadata={"description": "[lon, lat]"})


class CurrentAppointmentSchema(Schema):
    id = fields.UUID()
    status = fields.String(metadata={"enum": ["enroute", "started"]})
    job_id = fields.UUID()
    job_title = fields.String()
    customer_name = fields.String()
    starts_at = fields.String(metadata={"format": "date-time"})


class MemberPositionSchema(Schema):
    user_id = fields.UUID()
    name = fields.String()
    role = fields.String(metadata={"enum": ["dispatcher", "technician", "both"]})
    recorded_at = fields.String(metadata={"format": "date-time"})
    accuracy_m = fields.Float(allow_none=True)
    speed_mps = fields.Float(allow_none=True)
    heading_deg = fields.Float(allow_none=True)
    battery_pct = fields.Float(allow_none=True)
    stale = fields.Boolean(metadata={"description": "older than LOCATION_STALE_AFTER"})
    appointment = fields.Nested(
        CurrentAppointmentSchema,
        allow_none=True,
        metadata={"description": "the appointment the member is en route to or working on"},
    )


class MemberFeatureSchema(Schema):
    type = fields.String(metadata={"example": "Feature"})
    id = fields.UUID()
    geometry = fields.Nested(PointSchema)
    properties = fields.Nested(MemberPositionSchema)


class TeamMapSchema(Schema):
    type = fields.String(metadata={"example": "FeatureCollection"})
    features = fields.List(fields.Nested(MemberFeatureSchema))


TRACK_DEFAULT_WINDOW = timedelta(hours=8)  # a working day, when `since` is not given


class TrackQuerySchema(Schema):
    since = fields.AwareDateTime(
        metadata={"description": "RFC 3339 with an offset; unset: 8 hours before `until`"}
    )
    until = fields.AwareDateTime(
        metadata={
            "description": "RFC 3339 with an offset, at most 7 days after `since`; unset: now"
        }
    )
    tolerance_m = fields.Float(
        validate=validate.Range(0, 10_000),
        metadata={"description": "simplify the line: drop vertices closer than this (m)"},
    )


class TrackGeometrySchema(Schema):
    type = fields.String(metadata={"enum": ["LineString", "Point"]})
    coordinates = fields.Raw(metadata={"description": "[[lon, lat], ...] ([lon, lat] for one)"})


class TrackPropertiesSchema(Schema):
    user_id = fields.UUID()
    since = fields.String(metadata={"format": "date-time"})
    until = fields.String(metadata={"format": "date-time"})
    tolerance_m = fields.Float(allow_none=True)
    times = fields.List(
        fields.String(metadata={"format": "date-time"}),
        metadata={"description": "the time of each vertex, in order"},
    )


class TrackSchema(Schema):
    type = fields.String(metadata={"example": "Feature"})
    id = fields.UUID()
    geometry = fields.Nested(
        TrackGeometrySchema,
        allow_none=True,
        metadata={"description": "null without fixes, a Point with one"},
    )
    properties = fields.Nested(TrackPropertiesSchema)
