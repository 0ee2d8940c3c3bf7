"""Every text the product sends, in one place: short (one SMS segment where possible)
and signed with the organization's name."""

from __future__ import annotations


def passcode(organization: str, code: str, minutes: int) -> str:
    return f"{code} is your {organization} login code. It expires in {minutes} min. Don't share it."


def booking_code(organization: str, code: str, minutes: int) -> str:
    return (
        f"{code} is your code to request a visit from {organization}. It expires in {minutes} min."
    )


def booking_request(customer_name: str, description: str) -> str:
    what = description if len(description) <= 60 else description[:57] + "..."
    return f"New booking request from {customer_name}: {what} Open Dispatch Manager to answer."


def booking_accepted(organization: str) -> str:
    return f"{organization}: we accepted your request and will text you when it is scheduled."


def booking_declined(organization: str) -> str:
    return f"{organization}: sorry, we cannot take your request. Thank you for asking us."


def invite(organization: str, name: str, role: str, field_url: str, manager_url: str) -> str:
    first = name.split()[0] if name.split() else name
    if role == "technician":
        links = f"Get Dispatch Field: {field_url}"
    elif role == "dispatcher":
        links = f"Get Dispatch Manager: {manager_url}"
    else:
        links = f"Get Dispatch Field: {field_url} and Dispatch Manager: {manager_url}"
    return f"Hi {first}, {organization} added you to their team. {links}"


def on_my_way(
    technician_first_name: str, organization: str, arrival: str | None, tracking_link: str
) -> str:
    when = "" if arrival is None else f", arriving around {arrival}"
    who = f"{technician_first_name} from {organization}"
    return f"{who} is on the way{when}. Track: {tracking_link}"


def running_late(technician_first_name: str, organization: str, arrival: str) -> str:
    return f"{technician_first_name} from {organization} is running late, now around {arrival}."


def visit_booked(organization: str, when: str) -> str:
    return f"{organization}: your visit is booked for {when}."


def visit_moved(organization: str, when: str) -> str:
    return f"{organization}: your visit moved to {when}."


def visit_reminder(organization: str, when: str) -> str:
    return f"{organization}: a reminder of your visit {when}."


def visit_canceled(organization: str, when: str) -> str:
    return f"{organization}: your visit {when} was canceled. Call us to book again."


def arrival(technician_first_name: str, organization: str) -> str:
    return f"{technician_first_name} from {organization} has arrived."


def survey(organization: str, survey_url: str) -> str:
    return f"Thanks for choosing {organization}! How did we do? {survey_url}"


def help_reply() -> str:
    return "Dispatch texts about your service appointments. Reply STOP to opt out, START to opt in."


def inbound_help(organization: str | None) -> str:
    """The answer to HELP or INFO; names the organization that last texted the number."""
    if organization is None:
        return help_reply()
    return f"{organization}: texts about your service appointments. Reply STOP to opt out."
