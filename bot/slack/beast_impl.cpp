// The one translation unit that compiles Asio, Asio SSL and Beast (separate compilation, see the
// top-level CMakeLists.txt). Every other file includes only their declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
