"""Admin pages in the browser: the customer directory's CSV import."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from inbox import directory
from inbox.db import session

bp = Blueprint("admin_web", __name__, url_prefix="/admin")


@bp.route("/directory", methods=["GET", "POST"])
@login_required
def directory_page():
    """Upload a CSV of directory entries (admins) and see the import's report."""
    if current_user.role != "admin":
        abort(403)
    report, error, status = None, None, 200
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error, status = "Choose a CSV file to import.", 400
        else:
            try:
                report = directory.import_customers(upload.stream, current_user.id)
            except directory.UnreadableFile as failure:
                session().rollback()
                error, status = failure.message, 422  # in the page's language
    from inbox.directory_api import count

    return render_template("admin/directory.html", report=report, error=error, total=count()), status
