"""Assets of the code location: raw files, the dbt project."""
