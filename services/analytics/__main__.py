"""`python -m services.analytics`: the statistics API and dashboard on port 8004."""

from services.analytics.app import build_app
from services.analytics.settings import AnalyticsSettings
from shared.serve import serve


def main() -> None:
    settings = AnalyticsSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
