"""The test-data builders, one home for every suite (issue 27): functions that create rows or
build request bodies, by domain. Fixtures stay in the conftest files and test modules that use
them; what they build comes from here. Nothing in apps/ imports this package (bench/ may).

- `catalog`: the kilogram and the plain products (still water, coffee beans, gift wrap).
- `media`: a small PNG.
- `refs`: the rows of a tenant that fill every path parameter of the generated suites.
- `sales`: a sale written with the ORM, checkout request bodies, a checkout through the API.
- `tenants`: a company's settings changed behind the services' back."""
