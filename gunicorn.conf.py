# Flask-SocketIO in threading mode runs under gunicorn's threaded worker; one worker process, since
# Socket.IO's long-polling needs sticky sessions (Flask-SocketIO docs, "Deployment").
worker_class = "gthread"
workers = 1
threads = 100
graceful_timeout = 10
timeout = 120
accesslog = None
