"""HTTP endpoints of this capability."""

from flask_smorest import Blueprint

from fieldapi.jobs.appointment_views import blp as appointments
from fieldapi.jobs.customer_views import blp as customers
from fieldapi.jobs.job_views import blp as jobs
from fieldapi.jobs.settings_views import photos_blp, reasons_blp

blueprints: tuple[Blueprint, ...] = (customers, jobs, appointments, photos_blp, reasons_blp)
