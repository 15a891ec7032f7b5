"""Nested error structures flattened to one readable line per problem."""


def _join(path, key):
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def flatten_errors(errors, path=""):
    """{"fulfillments": {"0": {"country": "Wrong"}}} -> ["fulfillments[0].country: Wrong"].

    Lists of messages give one line each; lists of nested objects are indexed like dict keys.
    """
    if isinstance(errors, dict):
        lines = []
        for key, value in errors.items():
            lines.extend(flatten_errors(value, _join(path, key)))
        return lines
    if isinstance(errors, list | tuple):
        if all(isinstance(item, str) for item in errors):
            return [f"{path}: {item}" if path else str(item) for item in errors]
        lines = []
        for index, item in enumerate(errors):
            if item:
                lines.extend(flatten_errors(item, _join(path, index)))
        return lines
    return [f"{path}: {errors}" if path else str(errors)]
