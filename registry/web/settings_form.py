"""A format's repository settings as form fields and back (plugins.SettingField); what is
valid is still for the format's clean_settings to say."""

from registry.errors import InvalidInput


def initial(fields, settings):
    """[(field, value as the form shows it)]."""
    shown = []
    for field in fields:
        value = (settings or {}).get(field.name)
        if field.kind == "list":
            value = " ".join(value or [])
        elif field.kind == "bool":
            value = bool(value)
        elif value is None:
            value = ""
        shown.append((field, value))
    return shown


def read(fields, form, settings):
    """The repository's `settings` with the values of `form` (a QueryDict) for `fields`;
    settings the form does not show are kept."""
    values = dict(settings or {})
    for field in fields:
        raw = form.get(field.name, "").strip()
        if field.kind == "bool":
            values[field.name] = field.name in form
        elif field.kind == "int":
            if raw and not raw.isdigit():
                raise InvalidInput(f"{field.label} must be a whole number.", field=field.name)
            values[field.name] = int(raw) if raw else None
        elif field.kind == "list":
            values[field.name] = raw.replace(",", " ").split()
        else:
            values[field.name] = raw or None
    return values
