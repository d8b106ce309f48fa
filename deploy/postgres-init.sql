-- Databases of the production stack: Temporal's own two, and pdw's records.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
CREATE DATABASE pdw;
