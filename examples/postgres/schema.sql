-- Run by psql at start, before any step (init_scripts are relative to the test file).
CREATE TABLE product (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  price numeric(10, 2) NOT NULL CHECK (price > 0)
);
INSERT INTO product (name, price) VALUES ('apple', 3.00), ('pear', 4.50);
