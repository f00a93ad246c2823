"""The catalog of data products: products, Data Unions, lineage, policies and search."""
