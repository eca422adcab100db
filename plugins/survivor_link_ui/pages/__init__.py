"""The view's pages, one module per page, each an APIRouter that app.create_app includes."""
