CREATE TABLE todo (id serial PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false);
INSERT INTO todo (title, done) VALUES ('write the test', true), ('ship it', false);
