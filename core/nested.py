"""Nested error structures flattened to one readable line per problem."""


def _join(path, key):
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def error_paths(errors, path=""):
    """{"fulfillments": {"0": {"country": ["Wrong"]}}} -> {"fulfillments[0].country": ["Wrong"]}.

    Lists of messages stay lists; lists of nested objects are indexed like dict keys. Errors that
    belong to no field sit under "".
    """
    paths = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            for sub_path, messages in error_paths(value, _join(path, key)).items():
                paths.setdefault(sub_path, []).extend(messages)
        return paths
    if isinstance(errors, list | tuple):
        if all(isinstance(item, str) for item in errors):
            return {path: [str(item) for item in errors]} if errors else {}
        for index, item in enumerate(errors):
            if item:
                for sub_path, messages in error_paths(item, _join(path, index)).items():
                    paths.setdefault(sub_path, []).extend(messages)
        return paths
    return {path: [str(errors)]}


def lines_from_paths(paths):
    """{"a.b": ["Wrong"]} -> ["a.b: Wrong"]; messages under "" stand alone."""
    return [
        f"{path}: {message}" if path else message
        for path, messages in paths.items()
        for message in messages
    ]


def flatten_errors(errors, path=""):
    """{"fulfillments": {"0": {"country": "Wrong"}}} -> ["fulfillments[0].country: Wrong"]."""
    return lines_from_paths(error_paths(errors, path))
