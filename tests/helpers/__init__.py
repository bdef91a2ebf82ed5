"""What the course's tests share: where the course is, how to build and grade one, browsers and servers."""
