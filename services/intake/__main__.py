"""`python -m services.intake`."""

from services.intake.app import build_app
from services.intake.settings import IntakeSettings
from shared.serve import serve


def main() -> None:
    settings = IntakeSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
