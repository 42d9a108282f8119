! kron.f90: the Fortran module `kron`, kron's C API (kron.h) through iso_c_binding.
!
!   use kron
!   type(c_ptr) :: d, fu
!   real(c_double), allocatable, target :: u(:,:,:)   ! (nx_local, ny_local, nz_local): the x-pencil
!   ierr = kron_decomp_create_f(MPI_COMM_WORLD, n, lower, upper, kind, 0, 0, d)
!   ierr = kron_decomp_local_box(d, offset, extent)
!   allocate(u(extent(1), extent(2), extent(3)))
!   ierr = kron_field_wrap(d, c_loc(u), 1, fu)         ! no copy: u is the field's storage
!
! Handles are type(c_ptr); every function returns 0 or an error code, kron_error_message() the
! reason. Integer arrays of sizes are integer(c_long), flags and enumerators integer(c_int).
! Communicators are the integer handles of `use mpi` (mpi_f08: pass comm%MPI_VAL).
module kron
  use, intrinsic :: iso_c_binding
  implicit none
  private :: c_strlen

  integer(c_int), parameter :: KRON_OK = 0, KRON_ERROR_ARGUMENT = 1, KRON_ERROR_RUNTIME = 2, KRON_ERROR_MEMORY = 3
  integer(c_int), parameter :: KRON_AXIS_UNIFORM = 0, KRON_AXIS_PERIODIC = 1, KRON_AXIS_CHEBYSHEV = 2
  integer(c_int), parameter :: KRON_TRANSFORM_NONE = 0, KRON_TRANSFORM_FOURIER = 1, KRON_TRANSFORM_DCT1 = 2, &
                               KRON_TRANSFORM_DCT2 = 3, KRON_TRANSFORM_DCT3 = 4, KRON_TRANSFORM_DST1 = 5, &
                               KRON_TRANSFORM_DST2 = 6, KRON_TRANSFORM_DST3 = 7
  integer(c_int), parameter :: KRON_SCHEME_FD2 = 0, KRON_SCHEME_FD4 = 1, KRON_SCHEME_FD6 = 2, KRON_SCHEME_COMPACT4 = 3, &
                               KRON_SCHEME_COMPACT6 = 4, KRON_SCHEME_CHEBYSHEV = 5, KRON_SCHEME_FOURIER = 6
  integer(c_int), parameter :: KRON_BC_PERIODIC = 0, KRON_BC_DIRICHLET = 1, KRON_BC_NEUMANN = 2
  integer(c_int), parameter :: KRON_KERNEL_SQUARED_EXPONENTIAL = 0, KRON_KERNEL_MATERN52 = 1

  interface
    function c_strlen(s) bind(c, name="strlen")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: c_strlen
    end function

    function kron_last_error_c() bind(c, name="kron_last_error")
      import :: c_ptr
      type(c_ptr) :: kron_last_error_c
    end function

    integer(c_int) function kron_version(major, minor, patch) bind(c)
      import :: c_int
      integer(c_int) :: major, minor, patch
    end function

    ! comm: a Fortran MPI communicator handle (MPI_Fint)
    integer(c_int) function kron_decomp_create_f(comm, n, lower, upper, kind, p1, p2, decomp) bind(c)
      import :: c_int, c_long, c_double, c_ptr
      integer(c_int), value :: comm
      integer(c_long), intent(in) :: n(3)
      real(c_double), intent(in) :: lower(3), upper(3)
      integer(c_int), intent(in) :: kind(3)
      integer(c_int), value :: p1, p2
      type(c_ptr) :: decomp
    end function

    integer(c_int) function kron_decomp_destroy(decomp) bind(c)
      import :: c_int, c_ptr
      type(c_ptr) :: decomp
    end function

    integer(c_int) function kron_decomp_local_box(decomp, offset, extent) bind(c)
      import :: c_int, c_long, c_ptr
      type(c_ptr), value :: decomp
      integer(c_long) :: offset(3), extent(3)
    end function

    integer(c_int) function kron_decomp_process_grid(decomp, p1, p2) bind(c)
      import :: c_int, c_ptr
      type(c_ptr), value :: decomp
      integer(c_int) :: p1, p2
    end function

    ! axis: 0, 1, 2 for x, y, z; x(n(axis+1)) receives the coordinates
    integer(c_int) function kron_decomp_coordinates(decomp, axis, x) bind(c)
      import :: c_int, c_double, c_ptr
      type(c_ptr), value :: decomp
      integer(c_int), value :: axis
      real(c_double) :: x(*)
    end function

    integer(c_int) function kron_field_wrap(decomp, data, ncomp, field) bind(c)
      import :: c_int, c_ptr
      type(c_ptr), value :: decomp, data
      integer(c_int), value :: ncomp
      type(c_ptr) :: field
    end function

    integer(c_int) function kron_field_create(decomp, ncomp, field) bind(c)
      import :: c_int, c_ptr
      type(c_ptr), value :: decomp
      integer(c_int), value :: ncomp
      type(c_ptr) :: field
    end function

    integer(c_int) function kron_field_data(field, data, ncomp) bind(c)
      import :: c_int, c_ptr
      type(c_ptr), value :: field
      type(c_ptr) :: data
      integer(c_int) :: ncomp
    end function

    integer(c_int) function kron_field_destroy(field) bind(c)
      import :: c_int, c_ptr
      type(c_ptr) :: field
    end function

    integer(c_int) function kron_fft_create(decomp, kinds, ncomp, plan) bind(c)
      import :: c_int, c_ptr
      type(c_ptr), value :: decomp
      integer(c_int), intent(in) :: kinds(3)
      integer(c_int), value :: ncomp
      type(c_ptr) :: plan
    end function

    integer(c_int) function kron_fft_output_box(plan, offset, extent, stride, size, complex_output) bind(c)
      import :: c_int, c_long, c_ptr
      type(c_ptr), value :: plan
      integer(c_long) :: offset(3), extent(3), stride(4), size
      integer(c_int) :: complex_output
    end function

    ! out: c_loc of a complex(c_double_complex) (r2c) or real(c_double) array of `size` elements
    integer(c_int) function kron_fft_forward(plan, in, out) bind(c)
      import :: c_int, c_ptr
      type(c_ptr), value :: plan, in, out
    end function

    integer(c_int) function kron_fft_backward(plan, in, out) bind(c)
      import :: c_int, c_ptr
      type(c_ptr), value :: plan, in, out
    end function

    integer(c_int) function kron_fft_normalization(plan, scale) bind(c)
      import :: c_int, c_double, c_ptr
      type(c_ptr), value :: plan
      real(c_double) :: scale
    end function

    integer(c_int) function kron_fft_destroy(plan) bind(c)
      import :: c_int, c_ptr
      type(c_ptr) :: plan
    end function

    integer(c_int) function kron_poisson_create(decomp, scheme, bc, shift, solver) bind(c)
      import :: c_int, c_double, c_ptr
      type(c_ptr), value :: decomp
      integer(c_int), value :: scheme
      integer(c_int), intent(in) :: bc(3)
      real(c_double), value :: shift
      type(c_ptr) :: solver
    end function

    ! g: c_funloc of a function  real(c_double) function g(axis, side, x, context) bind(c)
    !    with integer(c_int), value :: axis, side; real(c_double) :: x(3); type(c_ptr), value :: context
    ! (c_null_funptr: zero boundary data)
    integer(c_int) function kron_poisson_solve(solver, f, g, context, u) bind(c)
      import :: c_int, c_ptr, c_funptr
      type(c_ptr), value :: solver, f
      type(c_funptr), value :: g
      type(c_ptr), value :: context, u
    end function

    integer(c_int) function kron_poisson_destroy(solver) bind(c)
      import :: c_int, c_ptr
      type(c_ptr) :: solver
    end function

    ! log_likelihood: c_loc of a real(c_double), or c_null_ptr
    integer(c_int) function kron_gp_regress(decomp, kernel, lengthscale, variance, noise, y, mean, log_likelihood) bind(c)
      import :: c_int, c_double, c_ptr
      type(c_ptr), value :: decomp
      integer(c_int), value :: kernel
      real(c_double), intent(in) :: lengthscale(3)
      real(c_double), value :: variance, noise
      type(c_ptr), value :: y, mean, log_likelihood
    end function

    integer(c_int) function kron_surrogate_load_c(comm, path, model) bind(c, name="kron_surrogate_load_f")
      import :: c_int, c_char, c_ptr
      integer(c_int), value :: comm
      character(kind=c_char), intent(in) :: path(*)
      type(c_ptr) :: model
    end function

    integer(c_int) function kron_surrogate_shape(model, dim, grid_points) bind(c)
      import :: c_int, c_long, c_ptr
      type(c_ptr), value :: model
      integer(c_int) :: dim
      integer(c_long) :: grid_points
    end function

    integer(c_int) function kron_surrogate_predict(model, a, u, samples) bind(c)
      import :: c_int, c_long, c_double, c_ptr
      type(c_ptr), value :: model
      real(c_double), intent(in) :: a(*)
      real(c_double) :: u(*)
      integer(c_long), value :: samples
    end function

    integer(c_int) function kron_surrogate_destroy(model) bind(c)
      import :: c_int, c_ptr
      type(c_ptr) :: model
    end function

    integer(c_int) function kron_output_create_c(decomp, dir, name, output) bind(c, name="kron_output_create")
      import :: c_int, c_char, c_ptr
      type(c_ptr), value :: decomp
      character(kind=c_char), intent(in) :: dir(*), name(*)
      type(c_ptr) :: output
    end function

    integer(c_int) function kron_output_write_c(output, step, time, names, nfields, fields) bind(c, name="kron_output_write")
      import :: c_int, c_double, c_char, c_ptr
      type(c_ptr), value :: output
      integer(c_int), value :: step
      real(c_double), value :: time
      character(kind=c_char), intent(in) :: names(*)
      integer(c_int), value :: nfields
      type(c_ptr), intent(in) :: fields(*)
    end function

    integer(c_int) function kron_output_destroy(output) bind(c)
      import :: c_int, c_ptr
      type(c_ptr) :: output
    end function
  end interface

contains

  ! The message of the last failed call, as a Fortran string.
  function kron_error_message() result(msg)
    character(len=:), allocatable :: msg
    type(c_ptr) :: p
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    p = kron_last_error_c()
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate(character(len=n) :: msg)
    do i = 1, n
      msg(i:i) = chars(i)
    end do
  end function

  integer(c_int) function kron_surrogate_load(comm, path, model)
    integer, intent(in) :: comm
    character(len=*), intent(in) :: path
    type(c_ptr) :: model
    kron_surrogate_load = kron_surrogate_load_c(int(comm, c_int), trim(path) // c_null_char, model)
  end function

  integer(c_int) function kron_output_create(decomp, dir, name, output)
    type(c_ptr), intent(in) :: decomp
    character(len=*), intent(in) :: dir, name
    type(c_ptr) :: output
    kron_output_create = kron_output_create_c(decomp, trim(dir) // c_null_char, trim(name) // c_null_char, output)
  end function

  ! names: comma-separated ("u,f,error"), one per field
  integer(c_int) function kron_output_write(output, step, time, names, fields)
    type(c_ptr), intent(in) :: output
    integer, intent(in) :: step
    real(c_double), intent(in) :: time
    character(len=*), intent(in) :: names
    type(c_ptr), intent(in) :: fields(:)
    kron_output_write = kron_output_write_c(output, int(step, c_int), time, trim(names) // c_null_char, &
                                            int(size(fields), c_int), fields)
  end function
end module kron
