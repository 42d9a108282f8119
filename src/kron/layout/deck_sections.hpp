#pragma once
#include <mpi.h>

#include <map>
#include <string>

#include "kron/core/deck.hpp"
#include "kron/core/memory.hpp"
#include "kron/core/expression.hpp"
#include "kron/layout/axis_grid.hpp"
#include "kron/layout/fft.hpp"
#include "kron/layout/hdf5_io.hpp"
#include "kron/layout/process_grid.hpp"

namespace kron::layout {

/// [device] backend: Host for "cpu"; for "cuda", checks that this build has CUDA and that every
/// rank sees a GPU (else a deck error naming the key), gives each rank its GPU (node-local rank
/// mod GPUs), logs the device and how MPI moves device data, and returns Device. Collective.
core::MemorySpace device_backend(const core::Deck& deck, MPI_Comm comm);

/// Declares [grid], [parallel], [fft] and [output]: the deck sections the layout layer reads.
void declare_sections(core::Schema& schema);

/// The domain of [grid]; errors name the offending key (and coordinate file line).
Domain make_domain(const core::Deck& deck);
/// The process grid of [parallel] (or the automatic choice) on `comm`.
/// Compiles the expression at section.key (or `text`, an entry of that list key) with the
/// constants `params`, and refuses a variable the run cannot give a value: an axis the grid does
/// not have (z on a 2D grid) or, unless `time_dependent`, t. Errors name the key and its line.
core::Expression deck_expression(const core::Deck& deck, const std::string& section, const std::string& key,
                                 const std::map<std::string, double>& params, const Domain& domain, bool time_dependent,
                                 const std::string* text = nullptr);
ProcessGridPtr make_process_grid(const core::Deck& deck, const Domain& domain, MPI_Comm comm);
FftOptions fft_options(const core::Deck& deck);
H5WriteOptions output_options(const core::Deck& deck);

}  // namespace kron::layout
