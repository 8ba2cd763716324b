"""The edugis web app: public pages and APIs, staff pages and the ``edugis`` command line."""
