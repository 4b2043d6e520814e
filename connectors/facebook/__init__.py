"""The Facebook connector: built in issue 3 on the interface of connectors/base.py."""
