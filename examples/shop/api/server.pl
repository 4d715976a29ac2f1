#!/usr/bin/perl
# A small HTTP API over PostgreSQL, for the worked example: perl (in the postgres image) serves,
# psql talks to the database at $DB_URL. GET /health, GET /todos, POST /todos (body: the title).
use strict;
use warnings;
use IO::Socket::INET;

my $db = $ENV{DB_URL} or die "DB_URL is not set\n";
my $server = IO::Socket::INET->new(LocalPort => 8080, Listen => 16, ReuseAddr => 1) or die "listen: $!\n";

sub sql {
  my ($query) = @_;
  open(my $out, '-|', 'psql', '-X', '-qtA', '-v', 'ON_ERROR_STOP=1', $db, '-c', $query) or return;
  local $/;
  my $text = <$out>;
  close($out) or return;
  chomp $text;
  return $text;
}

sub reply {
  my ($c, $status, $body) = @_;
  print $c "HTTP/1.1 $status\r\nContent-Type: application/json\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
}

while (my $c = $server->accept) {
  my $request = <$c> // next;
  my ($method, $path) = split / /, $request;
  my $length = 0;
  while (my $line = <$c>) {
    last if $line =~ /^\r?\n$/;
    $length = $1 if $line =~ /^Content-Length:\s*(\d+)/i;
  }
  my $body = '';
  read($c, $body, $length) if $length;
  if ($method eq 'GET' && $path eq '/health') {
    defined(sql('SELECT 1')) ? reply($c, '200 OK', '{"ok":true}') : reply($c, '503 Service Unavailable', '{"ok":false}');
  } elsif ($method eq 'GET' && $path eq '/todos') {
    my $json = sql(q{SELECT coalesce(json_agg(t ORDER BY t.id), '[]') FROM (SELECT id, title, done FROM todo) t});
    defined $json ? reply($c, '200 OK', $json) : reply($c, '500 Internal Server Error', '{"error":"query failed"}');
  } elsif ($method eq 'POST' && $path eq '/todos' && length $body) {
    (my $title = $body) =~ s/'/''/g;    # a string literal (standard_conforming_strings is on)
    my $json = sql("INSERT INTO todo (title) VALUES ('$title') RETURNING row_to_json(todo)");
    defined $json ? reply($c, '201 Created', $json) : reply($c, '400 Bad Request', '{"error":"insert failed"}');
  } else {
    reply($c, '404 Not Found', '{"error":"not found"}');
  }
  close $c;
}
