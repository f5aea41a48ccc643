#include "messages/digest_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include <cairo.h>
#include <date/date.h>

namespace flare::messages {
namespace {

struct surface_deleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct context_deleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

cairo_status_t append_png(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void text_at(cairo_t* cr, double x, double y, const std::string& text, double align = 0.0) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  cairo_move_to(cr, x - align * e.width, y);
  cairo_show_text(cr, text.c_str());
}

// A round axis maximum: 1, 2, 5, 10, 20, 50, …
double nice_max(double v) {
  if (v <= 1) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (v <= m * p) return m * p;
  return 10 * p;
}

}  // namespace

std::string digest_chart_png(const std::vector<digest_week>& weeks) {
  const int width = digest_chart_width, height = digest_chart_height;
  std::unique_ptr<cairo_surface_t, surface_deleter> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("digest chart: cairo cannot create the image");
  std::unique_ptr<cairo_t, context_deleter> owner(cairo_create(surface.get()));
  cairo_t* cr = owner.get();

  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  const double left = 60, right = width - 70, top = 50, bottom = height - 60;
  double max_count = 0, max_hours = 0;
  for (const auto& w : weeks) {
    max_count = std::max(max_count, static_cast<double>(w.on_time + w.late));
    if (w.median_time_to_classify)
      max_hours = std::max(max_hours, static_cast<double>(w.median_time_to_classify->count()) / 3600.0);
  }
  // A multiple of 4, so the four grid steps are whole numbers.
  max_count = 4 * std::ceil(std::max(1.0, nice_max(max_count)) / 4);
  max_hours = 4 * std::ceil(std::max(1.0, nice_max(max_hours)) / 4);

  // Title and legend.
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_set_font_size(cr, 18);
  text_at(cr, left, 30, "Obligations on time vs late, and median time to classify, by week");
  cairo_set_font_size(cr, 12);

  // Axes and grid.
  cairo_set_line_width(cr, 1);
  for (int g = 0; g <= 4; ++g) {
    const double y = bottom - (bottom - top) * g / 4.0;
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, left, y);
    cairo_line_to(cr, right, y);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    text_at(cr, left - 8, y + 4, std::to_string(static_cast<int>(max_count * g / 4)), 1.0);
    char hours[32];
    std::snprintf(hours, sizeof hours, "%.0f h", max_hours * g / 4);
    text_at(cr, right + 8, y + 4, hours);
  }
  text_at(cr, left - 8, top - 10, "obligations", 0.5);
  text_at(cr, right + 8, top - 10, "to classify");

  const std::size_t n = std::max<std::size_t>(weeks.size(), 1);
  const double slot = (right - left) / static_cast<double>(n);
  const double bar = slot * 0.6;
  std::vector<std::pair<double, double>> line;
  for (std::size_t i = 0; i < weeks.size(); ++i) {
    const auto& w = weeks[i];
    const double x = left + slot * static_cast<double>(i) + (slot - bar) / 2;
    const double on_h = (bottom - top) * w.on_time / max_count;
    const double late_h = (bottom - top) * w.late / max_count;
    cairo_set_source_rgb(cr, 0.18, 0.62, 0.33);  // on time
    cairo_rectangle(cr, x, bottom - on_h, bar, on_h);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.80, 0.20, 0.18);  // late
    cairo_rectangle(cr, x, bottom - on_h - late_h, bar, late_h);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    text_at(cr, x + bar / 2, bottom + 18, date::format("%d %b", date::floor<date::days>(w.start)), 0.5);
    if (w.median_time_to_classify)
      line.emplace_back(x + bar / 2,
                        bottom - (bottom - top) *
                                     (static_cast<double>(w.median_time_to_classify->count()) / 3600.0) /
                                     max_hours);
  }
  cairo_set_source_rgb(cr, 0.15, 0.35, 0.75);  // time to classify
  cairo_set_line_width(cr, 2.5);
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (i == 0) cairo_move_to(cr, line[i].first, line[i].second);
    else cairo_line_to(cr, line[i].first, line[i].second);
  }
  cairo_stroke(cr);
  for (const auto& [x, y] : line) {
    cairo_arc(cr, x, y, 4, 0, 2 * M_PI);
    cairo_fill(cr);
  }

  // Legend.
  const double ly = height - 20;
  cairo_set_source_rgb(cr, 0.18, 0.62, 0.33);
  cairo_rectangle(cr, left, ly - 10, 12, 12);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0.80, 0.20, 0.18);
  cairo_rectangle(cr, left + 110, ly - 10, 12, 12);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0.15, 0.35, 0.75);
  cairo_rectangle(cr, left + 190, ly - 6, 18, 4);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  text_at(cr, left + 18, ly, "on time");
  text_at(cr, left + 128, ly, "late");
  text_at(cr, left + 214, ly, "median time to classify");

  cairo_surface_flush(surface.get());
  std::string png;
  if (cairo_surface_write_to_png_stream(surface.get(), append_png, &png) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("digest chart: cairo cannot encode the PNG");
  return png;
}

}  // namespace flare::messages
