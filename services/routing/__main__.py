"""`python -m services.routing`"""

from services.routing.app import build_app
from services.routing.settings import RoutingSettings
from shared.serve import serve


def main() -> None:
    settings = RoutingSettings()
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
