from {{ cookiecutter.module }} import hello


def test_hello() -> None:
    assert hello() == "hello from {{ cookiecutter.name }}"
