# Flask-SocketIO in threading mode runs under gunicorn's threaded worker; one worker process, since
# Socket.IO's long-polling needs sticky sessions (Flask-SocketIO docs, "Deployment").
worker_class = "gthread"
workers = 1
threads = 100
graceful_timeout = 10
timeout = 120
accesslog = None
# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl), shared by every
# instance on the machine; the service does not use gunicornc.
control_socket_disable = True
