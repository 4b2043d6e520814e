from inbox import create_app

app = create_app()
