"""{{ cookiecutter.description }}"""


def hello() -> str:
    return "hello from {{ cookiecutter.name }}"
