"""The worker process: `python -m inbox.worker` (the Procfile's `worker`)."""

from inbox import create_app
from inbox.cli import run_worker


def main() -> None:
    """Build the app once and work the queue."""
    app = create_app()
    with app.app_context():
        run_worker()


if __name__ == "__main__":
    main()
